"""Water mask from VV backscatter: a dB threshold or Otsu's threshold of the dB histogram.

uint8 codes: 1 water, 0 not water, 255 nodata (as the S2 masks step expects: 255 = not observed).
"""

from __future__ import annotations

import numpy as np

from petacube.sagris.batch.errors import SagrisError

WATER, LAND, NODATA = 1, 0, 255


def to_db(linear: np.ndarray) -> np.ndarray:
    """10·log10 of linear backscatter; 0 → −inf is kept as a very dark value (−99 dB), NaN stays NaN."""
    with np.errstate(divide="ignore", invalid="ignore"):
        db = 10.0 * np.log10(linear.astype(np.float64))
    return np.where(np.isneginf(db), -99.0, db)


def otsu_threshold(db: np.ndarray, bins: int = 256) -> float:
    """Otsu's threshold (maximum between-class variance) of the finite dB values, clipped to [−35, +5] dB."""
    v = db[np.isfinite(db)]
    v = np.clip(v, -35.0, 5.0)
    if v.size == 0:
        raise SagrisError("water mask: no valid backscatter pixel to compute an Otsu threshold from")
    hist, edges = np.histogram(v, bins=bins, range=(-35.0, 5.0))
    centres = (edges[:-1] + edges[1:]) / 2
    w0 = np.cumsum(hist)
    w1 = w0[-1] - w0
    m0 = np.cumsum(hist * centres)
    mu0 = m0 / np.maximum(w0, 1)
    mu1 = (m0[-1] - m0) / np.maximum(w1, 1)
    between = w0 * w1 * (mu0 - mu1) ** 2
    return float(edges[1:][np.argmax(between)])


def parse_threshold(spec: str | float) -> float | str:
    """``"otsu"`` or a dB number (e.g. ``-18``); SagrisError naming the bad value otherwise."""
    if isinstance(spec, (int, float)):
        return float(spec)
    if str(spec).strip().lower() == "otsu":
        return "otsu"
    try:
        return float(spec)
    except ValueError:
        raise SagrisError(f"--water-threshold {spec!r}: give a VV threshold in dB (e.g. -18) or 'otsu'") from None


def water_mask(db: np.ndarray, threshold_db: float) -> np.ndarray:
    """uint8 mask: 1 where VV dB < threshold, 0 elsewhere, 255 where the input is NaN (nodata)."""
    out = np.where(db < threshold_db, WATER, LAND).astype(np.uint8)
    out[np.isnan(db)] = NODATA
    return out
