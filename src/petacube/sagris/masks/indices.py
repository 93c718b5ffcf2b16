"""Water and wetness indices of Sentinel-2 reflectances, their thresholds and their sources.

Mask values: 1 the class is present, 0 absent, 255 nodata (a needed band is nodata, or
the pixel is cloud, cloud shadow, cirrus or nodata in the L2C cloud mask).

Indices and default thresholds (all configurable; a pixel is flagged when the index is
*strictly* above its threshold):

* ``WATER_NDWI`` — NDWI = (B03 − B08) / (B03 + B08), McFeeters (1996), "The use of the
  Normalized Difference Water Index (NDWI) in the delineation of open water features",
  Int. J. Remote Sensing 17(7):1425–1432. Water where NDWI > 0 (McFeeters' threshold).
* ``WATER_MNDWI`` — MNDWI = (B03 − B11) / (B03 + B11), Xu (2006), "Modification of
  normalised difference water index (NDWI) to enhance open water features in remotely
  sensed imagery", Int. J. Remote Sensing 27(14):3025–3033. Water where MNDWI > 0 (Xu's
  threshold).
* ``WET_NDMI`` — NDMI = (B8A − B11) / (B8A + B11), the NIR–SWIR index of Gao (1996), "NDWI —
  A normalized difference water index for remote sensing of vegetation liquid water from
  space", Remote Sens. Environ. 58(3):257–266. Gao gives no class threshold; the default
  0 (more NIR than SWIR-1 reflectance, i.e. moist vegetation or wet surfaces) is a
  convention to tune per region.
* ``WET_TCW`` — tasselled-cap wetness with the Sentinel-2 coefficients of Nedkov (2017),
  "Orthogonal transformation of segmented images from the satellite Sentinel-2", Comptes
  rendus de l'Académie bulgare des Sciences 70(5):687–692 (the coefficients GRASS
  ``i.tasscap`` uses). Computed on reflectance (0–1). L2A has no B10 (cirrus): its weight,
  0.0003, is dropped, which moves TCW by at most 0.0003. Nedkov derived the coefficients on
  top-of-atmosphere data; on L2A surface reflectance the axis is approximate. Default
  threshold 0 (wet surfaces and water positive, dry soil and most vegetation negative), a
  convention to tune per region.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

MASK_NODATA = 255
SCALE = 10000.0  # L2B/L2C reflectance × 10000

# Nedkov (2017) wetness, without B10 (absent in L2A)
TCW_NEDKOV_2017 = {
    "B01": 0.0649, "B02": 0.1363, "B03": 0.2802, "B04": 0.3072, "B05": 0.5288, "B06": 0.1379,
    "B07": -0.0001, "B08": -0.0807, "B09": -0.0302, "B11": -0.4064, "B12": -0.5602, "B8A": -0.1389,
}


@dataclass(frozen=True)
class Thresholds:
    """Index thresholds: a pixel is flagged when its index is strictly above."""

    ndwi: float = 0.0  # McFeeters 1996
    mndwi: float = 0.0  # Xu 2006
    ndmi: float = 0.0  # convention (Gao 1996 index)
    tcw: float = 0.0  # convention (Nedkov 2017 coefficients)


def normalized_difference(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(a − b) / (a + b) in float32; NaN where a + b is 0."""
    a = a.astype(np.float32)
    b = b.astype(np.float32)
    s = a + b
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(s != 0, (a - b) / s, np.nan).astype(np.float32)


def tasselled_cap_wetness(bands: dict[str, np.ndarray]) -> np.ndarray:
    """Nedkov (2017) wetness of reflectances given × 10000 (uint16), on the 0–1 scale."""
    out = np.zeros(next(iter(bands.values())).shape, np.float32)
    for name, w in TCW_NEDKOV_2017.items():
        out += np.float32(w / SCALE) * bands[name].astype(np.float32)
    return out


@dataclass(frozen=True)
class MaskSpec:
    """One mask band: its name, the bands it needs, its index and threshold."""

    name: str
    bands: tuple[str, ...]
    index: Callable[[dict[str, np.ndarray]], np.ndarray]
    threshold: Callable[[Thresholds], float]
    source: str


MASKS: tuple[MaskSpec, ...] = (
    MaskSpec("WATER_NDWI", ("B03", "B08"), lambda b: normalized_difference(b["B03"], b["B08"]), lambda t: t.ndwi,
             "NDWI (B03-B08)/(B03+B08) > threshold; McFeeters 1996"),
    MaskSpec("WATER_MNDWI", ("B03", "B11"), lambda b: normalized_difference(b["B03"], b["B11"]), lambda t: t.mndwi,
             "MNDWI (B03-B11)/(B03+B11) > threshold; Xu 2006"),
    MaskSpec("WET_NDMI", ("B8A", "B11"), lambda b: normalized_difference(b["B8A"], b["B11"]), lambda t: t.ndmi,
             "NDMI (B8A-B11)/(B8A+B11) > threshold; index of Gao 1996"),
    MaskSpec("WET_TCW", tuple(TCW_NEDKOV_2017), tasselled_cap_wetness, lambda t: t.tcw,
             "tasselled-cap wetness, Sentinel-2 coefficients of Nedkov 2017 (B10 omitted), > threshold"),
)


def classify(spec: MaskSpec, bands: dict[str, np.ndarray], clear: np.ndarray, thresholds: Thresholds) -> np.ndarray:
    """The uint8 mask of one spec: 1 above the threshold, 0 not, 255 nodata or not clear."""
    valid = clear.copy()
    for name in spec.bands:
        valid &= bands[name] != 0
    index = spec.index(bands)
    valid &= np.isfinite(index)
    out = np.full(valid.shape, MASK_NODATA, np.uint8)
    out[valid] = (index[valid] > spec.threshold(thresholds)).astype(np.uint8)
    return out


__all__ = ["MASKS", "MASK_NODATA", "TCW_NEDKOV_2017", "MaskSpec", "Thresholds", "classify", "normalized_difference",
           "tasselled_cap_wetness"]
