"""petacube: an open datacube server for Earth observation.

``petacube.open(home)`` returns a `Datacube` (see `petacube.datacube`)."""

__version__ = "0.1.0"


def open(home=None, database_url=None, config=None):  # noqa: A001 - the public name users expect
    """Open the datacube at ``home`` (default ``$PETACUBE_HOME`` or ``./petacube-data``)."""
    from petacube.datacube import open as _open

    return _open(home, database_url=database_url, config=config)


def query(text: str, home=None, *, uploads=None, cube=None):
    """Run a WCPS query; returns a list of `petacube.engine.run.Result` (one per result)."""
    from petacube.datacube import open as _open
    from petacube.engine.run import run_query
    from petacube.wcps import parse_wcps

    cube = cube or _open(home)
    return run_query(parse_wcps(text), cube, uploads=uploads, scheduler=cube.settings.scheduler)
