"""The `petacube` command: parses arguments and calls the packages."""

from __future__ import annotations

import functools
import logging
import re
import sys
from pathlib import Path

import click

from petacube.errors import PetacubeError


def _cube(ctx: click.Context):
    from petacube.config import load_settings
    from petacube.datacube import Datacube

    if "cube" not in ctx.obj:
        opts = ctx.obj["opts"]
        settings = load_settings(opts["config"], home=opts["home"], database_url=opts["database_url"])
        ctx.obj["cube"] = Datacube(settings)
    return ctx.obj["cube"]


def user_errors(fn):
    """Turn PetacubeErrors into one clear line on stderr and exit status 2."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except PetacubeError as exc:
            click.echo(f"error [{exc.code}]: {exc.message}", err=True)
            sys.exit(2)
        except KeyboardInterrupt:
            click.echo("interrupted; re-run the same command to resume", err=True)
            sys.exit(130)
        except (click.ClickException, click.exceptions.Exit, SystemExit):
            raise
        except Exception as exc:  # a bug: say so plainly; the traceback goes to the log (-v)
            logging.getLogger("petacube").debug("internal error", exc_info=True)
            click.echo(f"internal error ({type(exc).__name__}: {exc}); this is a petacube bug, please report it "
                       "with the output of the same command run with -v", err=True)
            sys.exit(1)

    return wrapper


@click.group()
@click.option("--home", type=click.Path(path_type=Path), envvar="PETACUBE_HOME", help="data directory (default ./petacube-data)")
@click.option("--database-url", envvar="PETACUBE_DATABASE_URL", help="catalog database URL (default SQLite in the home)")
@click.option("--config", type=click.Path(exists=True, path_type=Path), envvar="PETACUBE_CONFIG", help="TOML configuration file")
@click.option("-v", "--verbose", is_flag=True, help="log what happens")
@click.version_option(package_name="petacube")
@click.pass_context
def main(ctx, home, database_url, config, verbose):
    """petacube: an open datacube server for Earth observation."""
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if verbose:
        logging.getLogger("petacube").setLevel(logging.DEBUG)
    ctx.ensure_object(dict)
    ctx.obj["opts"] = {"home": home, "database_url": database_url, "config": config}


@main.command("import")
@click.argument("ingredients", type=click.Path(path_type=Path))
@click.option("--mock", is_flag=True, help="print what would be imported, change nothing")
@click.option("--no-progress", is_flag=True, help="no progress bar")
@click.pass_context
@user_errors
def import_cmd(ctx, ingredients, mock, no_progress):
    """Import the files an ingredients JSON describes (rasdaman wcst_import format)."""
    from petacube.ingest.importer import run_import

    report = run_import(ingredients, _cube(ctx), mock=mock or None, show_progress=not no_progress, echo=click.echo)
    if report.mock_plan is not None:
        return
    for w in report.warnings:
        click.echo(f"warning: {w}", err=True)
    click.echo(
        f"{report.coverage_id}: {len(report.imported)} file(s) imported, "
        f"{len(report.already_done)} already there, {len(report.skipped)} skipped in {report.seconds:.1f} s"
    )
    if report.skipped:
        click.echo("skipped:", err=True)
        for path, why in report.skipped:
            click.echo(f"  {path}: {why}", err=True)


@main.command("list")
@click.pass_context
@user_errors
def list_cmd(ctx):
    """List the coverages."""
    cube = _cube(ctx)
    for cov_id in cube.coverage_ids():
        cov = cube.describe(cov_id)
        shape = "×".join(str(n) for n in cov.shape)
        click.echo(f"{cov_id}\t{', '.join(cov.dims)}\t{shape}\t{len(cov.bands)} band(s)\t{cov.crs.identifier}")


@main.command("describe")
@click.argument("coverage_id")
@click.pass_context
@user_errors
def describe_cmd(ctx, coverage_id):
    """Axes, extent, bands, slices and size on disk of a coverage."""
    click.echo(describe_text(_cube(ctx).summary(coverage_id)))


@main.command("delete")
@click.argument("coverage_id")
@click.pass_context
@user_errors
def delete_cmd(ctx, coverage_id):
    """Delete a coverage (metadata and tiles; registered files are left alone)."""
    _cube(ctx).delete(coverage_id)
    click.echo(f"deleted {coverage_id}")


def describe_text(info: dict) -> str:
    """Human-readable form of `Datacube.summary`."""
    lines = [f"coverage {info['id']}", f"  CRS        {info['crs']}", f"  CRS URI    {info['crs_uri']}"]
    lines.append(f"  storage    {info['storage']}, tiles {info['tile_shape']}, {_size(info['size_on_disk'])} on disk")
    lines.append(f"  slices     {info['slices']} from {info['files']} file(s)")
    lines.append("  axes (grid order):")
    for a in info["axes"]:
        lines.append(f"    {a['label']:<6} {a['kind']:<9} {a['lower']} .. {a['upper']}  {a['detail']}  [{a['size']} cells]")
    lines.append("  bands:")
    for b in info["bands"]:
        lines.append(f"    {b['name']:<12} {b['dtype']:<8} nulls {b['nulls'] or '-'}  unit {b['uom']}  {b['description']}")
    if info["pyramid"]:
        lines.append(f"  pyramid    {info['pyramid']}")
    if info["metadata"]:
        lines.append(f"  metadata   {info['metadata']}")
    return "\n".join(lines)


def _size(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


_SUBSET = re.compile(r"^\s*(\w+)\s*\((.*)\)\s*$|^\s*(\w+)\s*=(.*)$")
_QUOTED_TRIM = re.compile(r"""^\s*(["'])(.*?)\1\s*:\s*(["'])(.*?)\3\s*$""")
_QUOTED = re.compile(r"""^\s*(["'])(.*)\1\s*$""")


def parse_subset(text: str) -> tuple[str, object]:
    """``E(500000:510000)``, ``ansi("2021-05-01")``, ``ansi("2021-05-01":"2021-06-01")`` or ``E=1:2``."""
    m = _SUBSET.match(text)
    if not m:
        raise click.BadParameter(f"'{text}': write AXIS(low:high), AXIS(value) or AXIS=low:high")
    label = m.group(1) or m.group(3)
    body = (m.group(2) if m.group(1) else m.group(4)).strip()
    if q := _QUOTED_TRIM.match(body):
        return label, (q.group(2), q.group(4))
    if q := _QUOTED.match(body):
        return label, q.group(2)
    parts = [p.strip() for p in body.split(":")]
    if len(parts) == 1:
        return label, parts[0]
    if len(parts) == 2:
        return label, (parts[0], parts[1])
    raise click.BadParameter(f"'{text}': quote time bounds, e.g. ansi(\"2021-05-01T10:00\":\"2021-06-01\")")


@main.command("export")
@click.argument("coverage_id")
@click.option("-s", "--subset", "subsets", multiple=True, help='AXIS(low:high) or AXIS(value), e.g. -s E(500000:510000) -s ansi("2021-05-01")')
@click.option("-b", "--band", "bands", multiple=True, help="band to export (default all)")
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True, help="output file: .tif (2-D) or .nc")
@click.pass_context
@user_errors
def export_cmd(ctx, coverage_id, subsets, bands, output):
    """Write a region of a coverage to GeoTIFF or NetCDF."""
    from petacube.encode import write_dataset

    cube = _cube(ctx)
    subset_map = dict(parse_subset(s) for s in subsets)
    ds = cube.read(coverage_id, subset_map, list(bands) or None)
    write_dataset(ds, cube.describe(coverage_id), output)
    click.echo(f"wrote {output} ({', '.join(f'{d}={n}' for d, n in ds.sizes.items())})")


@main.command("query")
@click.argument("wcps")
@click.option("-o", "--output", type=click.Path(path_type=Path), help="write encoded results here (several results: name_1.ext, name_2.ext, ...)")
@click.option("-f", "--file", "files", multiple=True, type=click.Path(exists=True, path_type=Path), help="file for decode($1), $2, ... (repeat in order)")
@click.pass_context
@user_errors
def query_cmd(ctx, wcps, output, files):
    """Run a WCPS query: scalars print as text, encoded results go to -o FILE or standard output."""
    from petacube.engine.run import run_query
    from petacube.wcps import parse_wcps

    cube = _cube(ctx)
    results = run_query(parse_wcps(wcps), cube, uploads=[f.read_bytes() for f in files], scheduler=cube.settings.scheduler)
    for k, res in enumerate(results, 1):
        if res.data is None:
            click.echo(res.text())
        elif output is not None:
            target = output if len(results) == 1 else output.with_name(f"{output.stem}_{k}{output.suffix}")
            target.write_bytes(res.data)
            click.echo(f"wrote {target} ({len(res.data)} bytes, {res.media_type})", err=True)
        else:
            sys.stdout.buffer.write(res.data)
            sys.stdout.buffer.flush()



@main.command("serve")
@click.option("--host", help="address to listen on (default 127.0.0.1, setting host)")
@click.option("--port", type=int, help="port (default 8080, setting port)")
@click.option("--workers", type=int, help="worker processes (default 1, setting workers)")
@click.pass_context
@user_errors
def serve_cmd(ctx, host, port, workers):
    """Run the HTTP server (WCS, WCPS, CRS resolver, demo page)."""
    import os

    import uvicorn

    from petacube.config import load_settings

    opts = ctx.obj["opts"]
    settings = load_settings(opts["config"], home=opts["home"], database_url=opts["database_url"])
    # workers are fresh processes: they read their settings from the environment
    if opts["config"]:
        os.environ["PETACUBE_CONFIG"] = str(Path(opts["config"]).resolve())
    os.environ["PETACUBE_HOME"] = str(Path(settings.home).resolve())
    if settings.database_url:
        os.environ["PETACUBE_DATABASE_URL"] = settings.database_url
    host, port, workers = host or settings.host, port or settings.port, workers or settings.workers
    click.echo(f"petacube serving {settings.home} on http://{host}:{port}/ ({workers} worker(s))", err=True)
    # proxy headers are read by petacube.server.forwarded (trusted_proxies), not by uvicorn, which
    # would rewrite the peer address before petacube could check that the peer is a trusted proxy
    uvicorn.run("petacube.server.app:app_from_env", factory=True, host=host, port=port, workers=workers,
                access_log=False, proxy_headers=False, log_level="info" if logging.getLogger("petacube").level == logging.DEBUG else "warning")


@main.group("user")
def user_group():
    """Server users (HTTP Basic authentication) and their roles."""


def _users(ctx):
    from petacube.catalog.users import Users

    return Users(_cube(ctx).catalog)


@user_group.command("add")
@click.argument("name")
@click.option("--role", "roles", multiple=True, required=True, type=click.Choice(["reader", "writer", "admin"]),
              help="reader (read), writer (read + WCS-T), admin (all); repeatable")
@click.option("--password-stdin", is_flag=True, help="read the password from standard input (first line)")
@click.option("--replace", is_flag=True, help="replace an existing user of that name")
@click.pass_context
@user_errors
def user_add_cmd(ctx, name, roles, password_stdin, replace):
    """Add a user (asks for the password unless --password-stdin)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("password", hide_input=True, confirmation_prompt=True)
    user = _users(ctx).add(name, password, roles, replace=replace)
    click.echo(f"user {user.name} ({', '.join(user.roles)})")


@user_group.command("list")
@click.pass_context
@user_errors
def user_list_cmd(ctx):
    """List users and their roles."""
    for user in _users(ctx).list():
        click.echo(f"{user.name}\t{','.join(user.roles)}")


@user_group.command("remove")
@click.argument("name")
@click.pass_context
@user_errors
def user_remove_cmd(ctx, name):
    """Remove a user."""
    _users(ctx).remove(name)
    click.echo(f"removed user {name}")


@main.command("access")
@click.argument("coverage_id")
@click.option("--anonymous-read", type=click.Choice(["on", "off"]), required=True,
              help="off: the coverage needs credentials to be read over HTTP")
@click.pass_context
@user_errors
def access_cmd(ctx, coverage_id, anonymous_read):
    """Set who may read a coverage over HTTP."""
    _users(ctx).set_anonymous_read(coverage_id, anonymous_read == "on")
    click.echo(f"{coverage_id}: anonymous read {anonymous_read}")


@main.group("rule")
def rule_group():
    """Fine-grained read rules per role or user: area, time range, resolution, daily quota, cells."""


def _rules(ctx):
    from petacube.catalog.rules import Rules

    return Rules(_cube(ctx).catalog)


@rule_group.command("add")
@click.argument("subject")
@click.option("--coverage", default="*", show_default=True, help="the coverage the rule restricts (* = all)")
@click.option("--area", help="allowed area: WKT POLYGON or MULTIPOLYGON")
@click.option("--area-crs", help="CRS of --area (default EPSG:4326, longitude latitude)")
@click.option("--from", "time_min", help="earliest time that may be read (ISO 8601)")
@click.option("--to", "time_max", help="latest time that may be read (ISO 8601)")
@click.option("--finest", type=float, help="finest resolution that may be read (CRS units per cell)")
@click.option("--coarsest", type=float, help="coarsest resolution that may be read (CRS units per cell)")
@click.option("--daily-bytes", type=int, help="bytes that may be read per UTC day")
@click.option("--max-cells", type=int, help="cells that may be read per request")
@click.pass_context
@user_errors
def rule_add_cmd(ctx, subject, coverage, area, area_crs, time_min, time_max, finest, coarsest, daily_bytes, max_cells):
    """Add a rule for SUBJECT: a role (reader, writer), user:NAME or anonymous. Admins are exempt."""
    from petacube.catalog.rules import AccessRule

    rule = _rules(ctx).add(AccessRule(subject, coverage, area, area_crs, time_min, time_max, finest, coarsest,
                                      daily_bytes, max_cells))
    click.echo(f"added rule {rule.describe()}")


@rule_group.command("list")
@click.pass_context
@user_errors
def rule_list_cmd(ctx):
    """List the read rules."""
    for rule in _rules(ctx).list():
        click.echo(rule.describe())


@rule_group.command("remove")
@click.argument("rule_id", type=int)
@click.pass_context
@user_errors
def rule_remove_cmd(ctx, rule_id):
    """Remove a rule by its number (see `petacube rule list`)."""
    _rules(ctx).remove(rule_id)
    click.echo(f"removed rule #{rule_id}")


@main.group("wms")
def wms_group():
    """WMS layers: which coverages are map layers."""


@wms_group.command("enable")
@click.argument("coverage_id")
@click.pass_context
@user_errors
def wms_enable_cmd(ctx, coverage_id):
    """Make a coverage a WMS layer."""
    from petacube.catalog.styles import WmsCatalog

    WmsCatalog(_cube(ctx).catalog).set_layer(coverage_id, True)
    click.echo(f"{coverage_id}: WMS layer")


@wms_group.command("disable")
@click.argument("coverage_id")
@click.pass_context
@user_errors
def wms_disable_cmd(ctx, coverage_id):
    """Stop a coverage being a WMS layer (its styles are kept)."""
    from petacube.catalog.styles import WmsCatalog

    WmsCatalog(_cube(ctx).catalog).set_layer(coverage_id, False)
    click.echo(f"{coverage_id}: not a WMS layer")


@wms_group.command("list")
@click.pass_context
@user_errors
def wms_list_cmd(ctx):
    """List the WMS layers."""
    from petacube.catalog.styles import WmsCatalog

    for layer in WmsCatalog(_cube(ctx).catalog).layer_ids():
        click.echo(layer)


@main.group("style")
def style_group():
    """WMS styles: a WCPS fragment over $c and/or a colour table (ColorMap JSON, GDAL, SLD)."""


def _style_options(fn):
    for decorator in reversed([
        click.option("--title", help="human-readable title"),
        click.option("--abstract", help="description"),
        click.option("--wcps", "fragment", help='WCPS expression over $c (the layer), e.g. "$c.B04 / 16"'),
        click.option("--color-table-type", type=click.Choice(["ColorMap", "GDAL", "SLD"], case_sensitive=False),
                     help="form of --color-table (default ColorMap)"),
        click.option("--color-table", help="colour table text, or @FILE to read it from a file"),
        click.option("--legend", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                     help="legend image (PNG/JPEG/GIF) GetLegendGraphic returns"),
        click.option("--default/--no-default", "default", default=None, help="the layer's default style"),
    ]):
        fn = decorator(fn)
    return fn


def _save_style(ctx, layer, name, title, abstract, fragment, color_table_type, color_table, legend, default,
                update):
    from petacube.ows.wms.styles import save_style

    if color_table and color_table.startswith("@"):
        color_table = Path(color_table[1:]).read_text()
    rec = save_style(_cube(ctx), layer, name, title=title, abstract=abstract, fragment=fragment,
                     color_table_type=color_table_type, color_table=color_table,
                     legend=legend.read_bytes() if legend else None, default=default, update=update)
    click.echo(f"{'updated' if update else 'added'} style {rec.name} of layer {rec.layer}")


@style_group.command("add")
@click.argument("layer")
@click.argument("name")
@_style_options
@click.pass_context
@user_errors
def style_add_cmd(ctx, layer, name, **opts):
    """Add style NAME to LAYER."""
    _save_style(ctx, layer, name, update=False, **opts)


@style_group.command("update")
@click.argument("layer")
@click.argument("name")
@_style_options
@click.pass_context
@user_errors
def style_update_cmd(ctx, layer, name, **opts):
    """Change style NAME of LAYER (options left out are kept)."""
    _save_style(ctx, layer, name, update=True, **opts)


@style_group.command("remove")
@click.argument("layer")
@click.argument("name")
@click.pass_context
@user_errors
def style_remove_cmd(ctx, layer, name):
    """Remove style NAME of LAYER."""
    from petacube.ows.wms.styles import remove_style

    remove_style(_cube(ctx), layer, name)
    click.echo(f"removed style {name} of layer {layer}")


@style_group.command("list")
@click.argument("layer", required=False)
@click.pass_context
@user_errors
def style_list_cmd(ctx, layer):
    """List styles (of LAYER, or of all layers)."""
    from petacube.catalog.styles import WmsCatalog

    for s in WmsCatalog(_cube(ctx).catalog).styles(layer):
        kind = " + ".join(k for k, v in (("wcps", s.wcps_fragment), (s.color_table_type or "", s.color_table)) if v)
        click.echo(f"{s.layer}\t{s.name}{' (default)' if s.is_default else ''}\t{kind}\t{s.title}")


def _add_sagris() -> None:
    from petacube.sagris.cli import sagris

    main.add_command(sagris)


_add_sagris()


if __name__ == "__main__":  # pragma: no cover
    main()
