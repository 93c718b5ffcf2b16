"""``petacube sagris s1`` (also ``s1_sagris_p1``): Sentinel-1 IW GRD → calibrated, geocoded products."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import click

from petacube.sagris.console import progress_bars, run_batches, user_errors


@click.command("s1")
@click.option("-i", "--input", "in_dir", required=True, type=click.Path(path_type=Path), help="folder of S1 GRD .zip/.SAFE")
@click.option("-o", "--output", "out_dir", required=True, type=click.Path(path_type=Path), help="output folder")
@click.option("-p", "--epsg", type=int, help="derived UInt16 products in this EPSG (e.g. 3346)")
@click.option("-z", "--check", is_flag=True, help="test every zip and the manifest MD5 sums first")
@click.option("--dem", type=click.Path(exists=True, path_type=Path), help="DEM GeoTIFF: terrain correction + flattening")
@click.option("--flattening", type=click.Choice(["gamma_bilinear", "gamma_nearest"]), default="gamma_bilinear",
              show_default=True, help="sarsen's gamma flattening weights (with --dem)")
@click.option("--water-threshold", default="otsu", show_default=True, help="VV dB threshold of the water mask, or 'otsu'")
@click.option("--resolution", type=float, default=10.0, show_default=True, help="derived products' pixel size (m)")
@click.option("--tile-size", type=float, help="align derived outputs to a grid of this size (target CRS units)")
@click.option("--watch", is_flag=True, help="keep scanning the input folder for new products")
@click.option("--interval", type=float, default=30.0, show_default=True, help="seconds between scans with --watch")
@click.option("--settle", type=float, default=None, help="ignore inputs modified less than this many seconds ago")
@click.option("--max-cycles", type=int, default=None, hidden=True)
@click.option("--workers", type=int, default=1, show_default=True, help="products processed in parallel")
@click.option("--scheduler", help="dask.distributed scheduler address")
@click.option("--work-dir", type=click.Path(path_type=Path), help="temporary folder (default <output>/.sagris-work)")
@click.option("--no-progress", is_flag=True, help="no progress bar")
@user_errors
def s1_cmd(in_dir, out_dir, epsg, check, dem, flattening, water_threshold, resolution, tile_size, watch, interval,
           settle, max_cycles, workers, scheduler, work_dir, no_progress):
    """Sentinel-1 IW GRD → noise-removed, calibrated, geocoded backscatter (master + UInt16 products, water mask)."""
    from petacube.sagris.batch.errors import SagrisError
    from petacube.sagris.s1.pipeline import S1Options, done_markers, process_product
    from petacube.sagris.s1.run import run_s1_batch
    from petacube.sagris.s1.water import parse_threshold
    from petacube.sagris.s2.reproject import target_crs

    if dem is not None:
        raise SagrisError("--dem: terrain correction and flattening are not implemented yet; "
                          "run without --dem for ellipsoid (GCP) geocoding")
    if epsg is not None:
        target_crs(epsg)
    if workers < 1:
        raise SagrisError(f"--workers {workers}: give 1 or more")
    if resolution <= 0:
        raise SagrisError(f"--resolution {resolution}: give a positive pixel size in metres")
    options = S1Options(out_dir=out_dir, epsg=epsg, check=check, dem=dem, flattening=flattening,
                        water_threshold=parse_threshold(water_threshold), tile_size=tile_size, resolution=resolution)
    expected = partial(done_markers, options=options)
    settle_s = settle if settle is not None else (10.0 if watch else 0.0)
    run_batches(lambda: run_s1_batch(in_dir, out_dir, process_product, options, expected, work_dir=work_dir,
                                     workers=workers, scheduler=scheduler,
                                     progress=progress_bars("sagris s1", not no_progress), settle_s=settle_s),
                "sagris s1 summary", watch=watch, interval=interval, max_cycles=max_cycles)
