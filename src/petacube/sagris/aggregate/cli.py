"""``petacube sagris s2-aggregate``: L2B granules → L2C pass scenes (thin: options in, packages called).

Exit status: 0 every output done or skipped; 1 something failed (the batch went on, the
summary says why); 2 a usage error (nothing processed).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from petacube.sagris.console import print_summary, progress_bars, user_errors


@click.command("s2-aggregate")
@click.option("-i", "--input", "in_dir", required=True, type=click.Path(path_type=Path),
              help="folder of projected L2B zips (<product>_<res>m_<EPSG>.zip)")
@click.option("-o", "--output", "out_dir", required=True, type=click.Path(path_type=Path), help="folder for the L2C scenes")
@click.option("--tiles", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="GeoJSON polygons (lon/lat, or the CRS its 'crs' member names): one output per tile")
@click.option("--tile-size", type=float, help="a regular grid of this size in target CRS units (e.g. 20000): one output per tile")
@click.option("--resolution", "resolutions", type=click.Choice(["10", "20", "60"]), multiple=True,
              help="only this resolution (repeat for several; default all found)")
@click.option("--work-dir", type=click.Path(path_type=Path), help="temporary folder (default <output>/.sagris-work)")
@click.option("--workers", type=int, default=1, show_default=True, help="outputs mosaicked in parallel")
@click.option("--no-progress", is_flag=True, help="no progress bar")
@user_errors
def s2_aggregate_cmd(in_dir, out_dir, tiles, tile_size, resolutions, work_dir, workers, no_progress):
    """Mosaic the L2B granules of each pass into one seamless L2C scene per resolution."""
    from petacube.sagris.aggregate.run import AggregateOptions, run_aggregate

    options = AggregateOptions(tile_size=tile_size, tiles=tiles, work_dir=work_dir, workers=workers)
    if resolutions:
        options.resolutions = tuple(sorted(int(r) for r in resolutions))
    result = run_aggregate(in_dir, out_dir, options, progress=progress_bars("sagris s2-aggregate", not no_progress))
    print_summary(result, "sagris s2-aggregate summary")
    sys.exit(1 if result.failed else 0)
