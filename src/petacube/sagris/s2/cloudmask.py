"""The "aggressive" cloud / shadow mask, computed on the 20 m grid of one granule.

cloud  = SCL 8/9 (cloud medium/high probability) ∪ L2A cloud probability > threshold
         ∪ s2cloudless probability > threshold (when given)
cirrus = SCL 10
shadow = SCL 3 ∪ the cloud mask shifted away from the sun for every cloud height in
         ``cloud_heights`` (only onto pixels dark in the near infrared, when a NIR band is given)
Each class is then dilated by ``buffer_m``. Output codes: 0 clear, 1 cloud, 2 cloud
shadow, 3 cirrus, 255 nodata; where classes overlap cloud wins over cirrus over shadow.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

CLEAR, CLOUD, SHADOW, CIRRUS, NODATA = 0, 1, 2, 3, 255
SCL_NODATA, SCL_SHADOW, SCL_CLOUD_MED, SCL_CLOUD_HIGH, SCL_CIRRUS = 0, 3, 8, 9, 10


@dataclass(frozen=True)
class CloudMaskOptions:
    """Thresholds of the mask; the defaults are deliberately aggressive (when in doubt, mask)."""

    cloud_probability: float = 20.0  # % in MSK_CLDPRB; Sen2Cor itself calls ≥ 35 % "medium"
    s2cloudless_threshold: float = 0.3  # below s2cloudless's own 0.4 default
    cloud_heights_m: tuple[float, ...] = tuple(float(h) for h in range(500, 6001, 500))
    shadow_nir_max: float | None = 0.25  # reflectance; projected shadow only on pixels darker than this
    buffer_m: float = 60.0


def sun_shift_pixels(height_m: float, sun_zenith: float, sun_azimuth: float, res: float) -> tuple[int, int]:
    """(row, col) displacement of a cloud's shadow at ``height_m``: away from the sun, on the ground."""
    d = height_m * math.tan(math.radians(sun_zenith))
    az = math.radians(sun_azimuth)  # clockwise from north; the shadow falls towards az + 180°
    east, north = -math.sin(az) * d, -math.cos(az) * d
    return round(-north / res), round(east / res)


def _shift(mask: np.ndarray, drow: int, dcol: int) -> np.ndarray:
    out = np.zeros_like(mask)
    h, w = mask.shape
    if abs(drow) >= h or abs(dcol) >= w:
        return out
    rs, rd = (slice(0, h - drow), slice(drow, h)) if drow >= 0 else (slice(-drow, h), slice(0, h + drow))
    cs, cd = (slice(0, w - dcol), slice(dcol, w)) if dcol >= 0 else (slice(-dcol, w), slice(0, w + dcol))
    out[rd, cd] = mask[rs, cs]
    return out


def project_shadows(cloud: np.ndarray, res: float, sun_zenith: float, sun_azimuth: float,
                    heights: tuple[float, ...], work_res: float = 60.0) -> np.ndarray:
    """Union of the cloud mask shifted along the shadow track for cloud heights min(heights)..max(heights).

    The track is sampled every pixel of a ``work_res`` grid (coarser than the mask when the
    mask is finer), so a long track at a low sun costs a few hundred shifts of a small array.
    """
    f = max(1, round(work_res / res))
    if f > 1 and cloud.shape[0] >= f and cloud.shape[1] >= f:
        h, w = cloud.shape
        hp, wp = -(-h // f) * f, -(-w // f) * f
        padded = np.zeros((hp, wp), bool)
        padded[:h, :w] = cloud
        coarse = padded.reshape(hp // f, f, wp // f, f).any(axis=(1, 3))
        grid_res = res * f
    else:
        f, coarse, grid_res = 1, cloud, res
    lo, hi = min(heights), max(heights)
    r0, c0 = sun_shift_pixels(lo, sun_zenith, sun_azimuth, grid_res)
    r1, c1 = sun_shift_pixels(hi, sun_zenith, sun_azimuth, grid_res)
    steps = max(abs(r1 - r0), abs(c1 - c0), len(heights) - 1, 1)
    projected = np.zeros_like(coarse)
    for shift in sorted({sun_shift_pixels(lo + (hi - lo) * i / steps, sun_zenith, sun_azimuth, grid_res)
                         for i in range(steps + 1)}):
        projected |= _shift(coarse, *shift)
    if f > 1:
        projected = np.repeat(np.repeat(projected, f, axis=0), f, axis=1)[: cloud.shape[0], : cloud.shape[1]]
    return projected


def _dilate(mask: np.ndarray, radius_px: int) -> np.ndarray:
    if radius_px <= 0 or not mask.any():
        return mask
    y, x = np.ogrid[-radius_px: radius_px + 1, -radius_px: radius_px + 1]
    disk = x * x + y * y <= radius_px * radius_px
    return ndimage.binary_dilation(mask, structure=disk)


def cloud_mask(scl: np.ndarray | None, valid: np.ndarray, *, res: float, sun_zenith: float, sun_azimuth: float,
               cloud_probability: np.ndarray | None = None, s2cloudless_probability: np.ndarray | None = None,
               nir_reflectance: np.ndarray | None = None, options: CloudMaskOptions = CloudMaskOptions()) -> np.ndarray:
    """The uint8 mask (codes in the module docstring) for arrays on one grid of pixel size ``res`` m.

    ``valid`` is True where the granule has data; ``nir_reflectance`` is reflectance (0..1).
    """
    shape = valid.shape
    cloud = np.zeros(shape, bool)
    cirrus = np.zeros(shape, bool)
    shadow = np.zeros(shape, bool)
    if scl is not None:
        cloud |= (scl == SCL_CLOUD_MED) | (scl == SCL_CLOUD_HIGH)
        cirrus |= scl == SCL_CIRRUS
        shadow |= scl == SCL_SHADOW
    if cloud_probability is not None:
        cloud |= cloud_probability > options.cloud_probability
    if s2cloudless_probability is not None:
        cloud |= s2cloudless_probability > options.s2cloudless_threshold
    cloud &= valid
    if cloud.any() and options.cloud_heights_m:
        projected = project_shadows(cloud, res, sun_zenith, sun_azimuth, options.cloud_heights_m)
        if nir_reflectance is not None and options.shadow_nir_max is not None:
            projected &= nir_reflectance < options.shadow_nir_max
        shadow |= projected & valid
    radius = math.ceil(options.buffer_m / res) if options.buffer_m > 0 else 0
    cloud, cirrus, shadow = (_dilate(m, radius) for m in (cloud, cirrus, shadow))
    out = np.full(shape, CLEAR, np.uint8)
    out[shadow] = SHADOW
    out[cirrus] = CIRRUS
    out[cloud] = CLOUD
    out[~valid] = NODATA
    return out


def mask_to_resolution(mask: np.ndarray, factor_up: int = 1, factor_down: int = 1) -> np.ndarray:
    """Bring a mask to a finer (repeat) or coarser grid; coarser keeps the worst class in each block."""
    if factor_up > 1:
        return np.repeat(np.repeat(mask, factor_up, axis=0), factor_up, axis=1)
    if factor_down > 1:
        f = factor_down
        h, w = mask.shape[0] // f, mask.shape[1] // f
        b = mask[: h * f, : w * f].reshape(h, f, w, f)
        out = np.full((h, w), NODATA, np.uint8)
        anyv = (b != NODATA).any(axis=(1, 3))
        out[anyv] = CLEAR
        for code in (SHADOW, CIRRUS, CLOUD):  # later codes win: cloud over cirrus over shadow
            out[(b == code).any(axis=(1, 3))] = code
        return out
    return mask
