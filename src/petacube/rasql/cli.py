"""The ``rasql`` command, as rasdaman's: ``rasql -q 'select ...' --out file``.

It opens the datacube at ``--home`` (or ``$PETACUBE_HOME``) directly. Without ``--user``
the local user has every right (as with the ``petacube`` command); with ``--user`` and
``--passwd`` the server's users and roles apply (writes need the writer or admin role).
Exit status 0, or 255 (rasdaman's -1) after an error.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

import petacube
from petacube.errors import PetacubeError

EXIT_FAILURE = 255


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-q", "--query", "query", help="the rasql query string")
@click.option("-f", "--file", "files", multiple=True, type=click.Path(dir_okay=False),
              help="file for $1, $2 ... in the query (repeat in order)")
@click.option("--out", "out", type=click.Choice(["none", "file", "string", "hex", "formatted"]), default=None,
              help="how to show result arrays (implies --content)")
@click.option("--outfile", "outfile", default=None, help="file name template for results; %d numbers them (implies --out file)")
@click.option("--content", is_flag=True, help="display the result")
@click.option("--type", "show_type", is_flag=True, help="display type information for results")
@click.option("--mddtype", default=None, help="marray type of a raw -f file (e.g. GreyImage)")
@click.option("--mdddomain", default=None, help="domain of a raw -f file, e.g. [0:99,0:49]")
@click.option("--user", default=None, help="user name (rights as on the server)")
@click.option("--passwd", default=None, help="password of --user")
@click.option("--quiet", is_flag=True, help="print only results and errors")
@click.option("--home", type=click.Path(file_okay=False), envvar="PETACUBE_HOME", default=None,
              help="the petacube home (default $PETACUBE_HOME or ./petacube-data)")
@click.option("--database-url", default=None, help="catalog database URL (default: SQLite in the home)")
def main(query, files, out, outfile, content, show_type, mddtype, mdddomain, user, passwd, quiet, home, database_url):
    """rasdaman query tool: run one rasql statement against a petacube datacube."""

    def echo(line: str, ornament: bool = False) -> None:
        if not (quiet and ornament):
            click.echo(line)

    if not query:
        click.echo("usage: rasql [--query querystring|-q querystring] [options]; see rasql --help", err=True)
        sys.exit(2)
    if outfile is not None:
        out = "file"
    show = out is not None or content
    out = out or "none"
    echo(f"rasql: rasdaman query tool v1.0, petacube {petacube.__version__}.", ornament=True)
    status = 0
    try:
        status = _run(query, files, out, outfile or "rasql_%d", show, show_type, mddtype, mdddomain, user, passwd,
                      home, database_url, echo)
    except PetacubeError as err:
        click.echo(f"rasql: {_message(err)}", err=True)
        status = EXIT_FAILURE
    echo("rasql done.", ornament=True)
    sys.exit(status)


def _message(err: PetacubeError) -> str:
    number = getattr(err, "number", None)
    return f"rasdaman error {number}: {err.message}" if number else err.message


def _run(query, files, out, outfile, show, show_type, mddtype, mdddomain, user, passwd, home, database_url, echo) -> int:
    from petacube.rasql.execute import Session, Upload, statement_kind
    from petacube.rasql.output import print_result

    uploads = []
    for path in files:
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            raise PetacubeError(f"cannot read file {path}: {exc.strerror}") from None
        if not data:
            raise PetacubeError(f"file {path} is empty")
        uploads.append(Upload(data, mddtype if mdddomain else None, mdddomain))
    kind = statement_kind(query)  # a syntax error before the database is opened, as rasdaman
    cube = petacube.open(home, database_url=database_url)
    try:
        echo(f"Opening database {cube.settings.home}... ok.", ornament=True)
        session = Session(cube, _authorizer(cube, user, passwd))
        verb = {"select": "retrieval", "insert": "insert"}.get(kind, "update")
        outcome = session.execute(query, uploads)
        echo(f"Executing {verb} query... ok.", ornament=True)
        if show and not outcome.is_update:
            if show_type:
                echo(f"  Result type: {', '.join(sorted({e.kind for e in outcome.elements})) or 'none'}")
            print_result(outcome.elements, out, outfile, echo)
    finally:
        cube.close()
    return 0


def _authorizer(cube, user: str | None, passwd: str | None):
    """None: local, every right; with --user: that user's roles (read needs any role)."""
    if user is None:
        return None
    from petacube.catalog.users import Users
    from petacube.ows.exceptions import AccessDenied, AuthenticationRequired

    found = Users(cube.catalog).authenticate(user, passwd or "")
    if found is None:
        raise AuthenticationRequired(f"wrong user name or password for '{user}'")
    rights = found.rights

    def check(names, write: bool) -> None:
        if write and not rights & {"writer", "admin"}:
            raise AccessDenied(f"user '{user}' may not change data: it needs the writer or admin role")

    return check


if __name__ == "__main__":  # pragma: no cover
    main()
