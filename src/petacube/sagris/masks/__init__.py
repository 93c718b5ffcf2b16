"""SAGRIS masks from L2C scenes: water (NDWI, MNDWI), wetness (NDMI, tasselled-cap wetness), clouds as nodata."""

from petacube.sagris.masks.indices import MASKS, Thresholds
from petacube.sagris.masks.run import MaskOptions, run_masks

__all__ = ["MASKS", "MaskOptions", "Thresholds", "run_masks"]
