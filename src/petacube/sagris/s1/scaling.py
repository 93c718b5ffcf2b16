"""Linear backscatter ↔ UInt16 ×1000 and the false-colour byte scaling.

UInt16 encoding (documented for users of the ``_TC<EPSG>`` GeoTIFFs):
  value = round-half-to-even(linear × 1000), clipped to 0 … 65534; 65535 = nodata.
  Decoding: linear = value / 1000, exact to ±0.0005 (linear) for 0 ≤ linear < 65.5345;
  brighter pixels (> +18.2 dB, strong point targets) saturate at 65534. dB values cannot be
  stored this way (negative); convert after decoding: dB = 10·log10(value / 1000).
False colour (``_pct.tif``): R = VV dB in [−25, 0], G = VH dB in [−30, −5], B = VV/VH ratio
  in dB in [0, 15], each mapped linearly onto 1 … 255; 0 = nodata in all three bands.
"""

from __future__ import annotations

import numpy as np

SCALE = 1000.0
U16_MAX_VALID = 65534
U16_NODATA = 65535
RGB_RANGES_DB = {"VV": (-25.0, 0.0), "VH": (-30.0, -5.0), "VV/VH": (0.0, 15.0)}


def encode_u16(linear: np.ndarray) -> np.ndarray:
    """Linear backscatter → UInt16 ×1000 (NaN → 65535)."""
    v = np.rint(np.nan_to_num(linear, nan=0.0) * SCALE)
    out = np.clip(v, 0, U16_MAX_VALID).astype(np.uint16)
    out[~np.isfinite(linear)] = U16_NODATA
    return out


def decode_u16(values: np.ndarray) -> np.ndarray:
    """UInt16 ×1000 → linear float32 (65535 → NaN)."""
    out = values.astype(np.float32) / SCALE
    out[values == U16_NODATA] = np.nan
    return out


def db_to_byte(db: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """dB in [lo, hi] → 1 … 255 (clipped); NaN → 0."""
    b = 1.0 + (np.clip(db, lo, hi) - lo) / (hi - lo) * 254.0
    out = np.rint(np.nan_to_num(b, nan=0.0)).astype(np.uint8)
    out[~np.isfinite(db)] = 0
    return out


def false_colour(vv: np.ndarray, vh: np.ndarray) -> np.ndarray:
    """(3, rows, cols) uint8 R=VV, G=VH, B=VV/VH as documented above."""
    with np.errstate(divide="ignore", invalid="ignore"):
        # a valid 0 (noise-removed dark water) is floored to −60 dB rather than made nodata
        vv_db = 10 * np.log10(np.maximum(vv, 1e-6))
        vh_db = 10 * np.log10(np.maximum(vh, 1e-6))
    return np.stack([db_to_byte(vv_db, *RGB_RANGES_DB["VV"]), db_to_byte(vh_db, *RGB_RANGES_DB["VH"]),
                     db_to_byte(vv_db - vh_db, *RGB_RANGES_DB["VV/VH"])])
