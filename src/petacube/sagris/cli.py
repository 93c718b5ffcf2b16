"""``petacube sagris ...``: the SAGRIS commands (thin: parse options, call the packages).

Exit status: 0 all products done or skipped; 1 at least one product failed (the batch
went on; the summary says why); 2 a usage or configuration error (nothing processed).
"""

from __future__ import annotations

import importlib.util
import json
import logging
from functools import partial
from pathlib import Path

import click

from petacube.sagris.console import progress_bars, run_batches, user_errors


@click.group("sagris")
def sagris():
    """SAGRIS Sentinel pre-processors (S2 L1C/L2A → L2B, aggregation, masks, collector)."""


def _clip_bounds(tiles: Path | None, epsg: int | None):
    if tiles is None:
        return None
    from petacube.sagris.batch.errors import SagrisError
    from petacube.sagris.s2.reproject import target_crs

    if epsg is None:
        raise SagrisError("--tiles needs -p EPSG: the tiles limit the projected outputs")
    try:
        doc = json.loads(tiles.read_text())
        from shapely.geometry import shape
        from shapely.ops import unary_union

        feats = doc["features"] if doc.get("type") == "FeatureCollection" else [doc]
        geom = unary_union([shape(f.get("geometry", f)) for f in feats])
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise SagrisError(f"--tiles {tiles}: not a readable GeoJSON file of polygons ({exc})") from exc
    from rasterio.warp import transform_bounds

    return transform_bounds("EPSG:4326", target_crs(epsg), *geom.bounds, densify_pts=101)


@sagris.command("s2")
@click.option("-i", "--input", "in_dir", required=True, type=click.Path(path_type=Path), help="folder of S2 L1C/L2A .zip/.SAFE")
@click.option("-o", "--output", "out_dir", required=True, type=click.Path(path_type=Path), help="output folder for L2B zips")
@click.option("-p", "--epsg", type=int, help="also reproject to this EPSG code (e.g. 3035)")
@click.option("-z", "--check", is_flag=True, help="test every zip and the manifest checksums first")
@click.option("--watch", is_flag=True, help="keep scanning the input folder for new products")
@click.option("--interval", type=float, default=30.0, show_default=True, help="seconds between scans with --watch")
@click.option("--settle", type=float, default=None, help="ignore inputs modified less than this many seconds ago "
              "(default 10 with --watch, else 0)")
@click.option("--max-cycles", type=int, default=None, hidden=True)
@click.option("--workers", type=int, default=1, show_default=True, help="products processed in parallel")
@click.option("--scheduler", help="dask.distributed scheduler address (workers must see the same folders)")
@click.option("--work-dir", type=click.Path(path_type=Path), help="temporary folder (default <output>/.sagris-work)")
@click.option("--tile-size", type=float, help="align projected outputs to a grid of this size (target CRS units)")
@click.option("--tiles", type=click.Path(exists=True, path_type=Path), help="GeoJSON polygons (WGS84) limiting projected outputs")
@click.option("--sen2cor", help="path of Sen2Cor's L2A_Process (default: $PETACUBE_SEN2COR or PATH)")
@click.option("--no-sen2cor", is_flag=True, help="always use the built-in L1C correction")
@click.option("--buffer", type=float, default=60.0, show_default=True, help="cloud/shadow mask buffer in metres")
@click.option("--cloud-probability", type=float, default=20.0, show_default=True,
              help="L2A cloud probability (%) above which a pixel is cloud")
@click.option("--no-progress", is_flag=True, help="no progress bar")
@user_errors
def s2_cmd(in_dir, out_dir, epsg, check, watch, interval, settle, max_cycles, workers, scheduler, work_dir, tile_size,
           tiles, sen2cor, no_sen2cor, buffer, cloud_probability, no_progress):
    """Sentinel-2 L1C/L2A → L2B (10/20/60 m GeoTIFF zips, SCL, cloud mask, previews)."""
    from petacube.sagris.batch.errors import SagrisError
    from petacube.sagris.batch.runner import run_batch
    from petacube.sagris.s2.cloudmask import CloudMaskOptions
    from petacube.sagris.s2.pipeline import S2Options, done_markers, process_product
    from petacube.sagris.s2.reproject import target_crs

    if epsg is not None:
        target_crs(epsg)  # an unknown code stops here, before any product is touched
    if workers < 1:
        raise SagrisError(f"--workers {workers}: give 1 or more")
    if tile_size is not None and tile_size <= 0:
        raise SagrisError(f"--tile-size {tile_size}: give a positive size in target CRS units")
    options = S2Options(epsg=epsg, check=check, sen2cor=sen2cor, use_sen2cor=not no_sen2cor,
                        mask=CloudMaskOptions(cloud_probability=cloud_probability, buffer_m=buffer),
                        tile_size=tile_size, clip_bounds=_clip_bounds(tiles, epsg))
    expected = partial(done_markers, options=options)
    settle_s = settle if settle is not None else (10.0 if watch else 0.0)
    run_batches(lambda: run_batch(in_dir, out_dir, process_product, options, expected, work_dir=work_dir,
                                  workers=workers, scheduler=scheduler,
                                  progress=progress_bars("sagris s2", not no_progress), settle_s=settle_s),
                "sagris s2 summary", watch=watch, interval=interval, max_cycles=max_cycles)


@sagris.command("collect")
@click.option("--from", "sources", required=True, multiple=True, type=click.Path(path_type=Path),
              help="an output folder to collect from (repeat the option for several)")
@click.option("--to", "dest", required=True, type=click.Path(path_type=Path), help="the folder to collect into")
@user_errors
def collect_cmd(sources, dest):
    """Move finished outputs of several processors' folders into one, atomically, never overwriting."""
    from petacube.sagris.batch.collect import collect

    moved, left = collect(sources, dest)
    click.echo(f"collected {len(moved)} file(s) into {dest}")
    for p in left:
        click.echo(f"left {p}: a file of that name is already in {dest}", err=True)


def _register_optional() -> None:
    """Add the aggregator's and the masks' commands when those packages are installed."""
    for module, attr in (("petacube.sagris.aggregate.cli", "s2_aggregate_cmd"), ("petacube.sagris.masks.cli", "masks_cmd"),
                         ("petacube.sagris.s1.cli", "s1_cmd")):
        try:
            found = importlib.util.find_spec(module) is not None
        except ModuleNotFoundError:
            found = False
        if found:
            try:
                cmd = getattr(importlib.import_module(module), attr, None)
            except ImportError as exc:  # a missing optional dependency must not take `s2`/`collect` down
                logging.getLogger("petacube.sagris").warning("sagris: %s unavailable: %s", module, exc)
                continue
            if cmd is not None:
                sagris.add_command(cmd)


_register_optional()
