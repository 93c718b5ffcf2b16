"""``petacube sagris masks``: L2C scenes → water / wetness masks (thin: options in, packages called).

Exit status: 0 every scene done or skipped; 1 something failed (the batch went on, the
summary says why); 2 a usage error (nothing processed).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from petacube.sagris.console import print_summary, progress_bars, user_errors
from petacube.sagris.masks.indices import MASKS, Thresholds

_DEFAULT = Thresholds()


@click.command("masks")
@click.option("-i", "--input", "in_dir", required=True, type=click.Path(path_type=Path), help="folder of L2C scenes")
@click.option("-o", "--output", "out_dir", required=True, type=click.Path(path_type=Path), help="folder for the masks")
@click.option("--resolution", type=click.Choice(["10", "20", "60"]), default="20", show_default=True,
              help="grid of the masks (bands missing at it come from the scene's other resolutions)")
@click.option("--ndwi", type=float, default=_DEFAULT.ndwi, show_default=True, help="water where NDWI > this (McFeeters 1996)")
@click.option("--mndwi", type=float, default=_DEFAULT.mndwi, show_default=True, help="water where MNDWI > this (Xu 2006)")
@click.option("--ndmi", type=float, default=_DEFAULT.ndmi, show_default=True, help="wet where NDMI (B8A, B11) > this")
@click.option("--tcw", type=float, default=_DEFAULT.tcw, show_default=True,
              help="wet where tasselled-cap wetness (Nedkov 2017, reflectance 0-1) > this")
@click.option("--mask", "masks", type=click.Choice([m.name for m in MASKS]), multiple=True,
              help="only this mask (repeat for several; default all)")
@click.option("--work-dir", type=click.Path(path_type=Path), help="temporary folder (default <output>/.sagris-work)")
@click.option("--no-progress", is_flag=True, help="no progress bar")
@user_errors
def masks_cmd(in_dir, out_dir, resolution, ndwi, mndwi, ndmi, tcw, masks, work_dir, no_progress):
    """Water and wetness masks of L2C scenes; clouds, shadows and nodata are 255."""
    from petacube.sagris.masks.run import MaskOptions, run_masks

    options = MaskOptions(resolution=int(resolution), thresholds=Thresholds(ndwi, mndwi, ndmi, tcw), work_dir=work_dir)
    if masks:
        options.masks = tuple(masks)
    result = run_masks(in_dir, out_dir, options, progress=progress_bars("sagris masks", not no_progress))
    print_summary(result, "sagris masks summary")
    sys.exit(1 if result.failed else 0)
