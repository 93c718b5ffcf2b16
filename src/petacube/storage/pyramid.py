"""Pyramid arithmetic: block means over valid cells, and which level cells a write touches."""

from __future__ import annotations

import numpy as np

from petacube.model import Band


def valid_mask(band: Band, data: np.ndarray) -> np.ndarray:
    """True where a cell holds a value: not a null value of the band, and not NaN."""
    valid = ~band.null_mask(data)
    if data.dtype.kind in "fc":
        # NaN means "no value" in float rasters even when no null value says so
        valid &= ~np.isnan(data)
    return valid


def block_mean(data: np.ndarray, band: Band, factors: tuple[int, ...]) -> np.ndarray:
    """Mean of the valid cells of each ``factors``-sized block of ``data``.

    Blocks at the far edges may be partial. A block without a valid cell gets the band's
    fill value; integer bands get the rounded mean."""
    valid = valid_mask(band, data)
    pad = [(0, (-n) % f) for n, f in zip(data.shape, factors)]
    if any(p for _, p in pad):
        data = np.pad(data, pad)
        valid = np.pad(valid, pad, constant_values=False)
    split: list[int] = []
    for n, f in zip(data.shape, factors):
        split += [n // f, f]
    inner = tuple(range(1, 2 * len(factors), 2))
    acc = np.complex128 if data.dtype.kind == "c" else np.float64
    sums = np.where(valid, data, 0).astype(acc, copy=False).reshape(split).sum(axis=inner)
    counts = valid.reshape(split).sum(axis=inner)
    dtype = np.dtype(band.dtype)
    out = np.full(counts.shape, band.fill_value, dtype=dtype)
    has = counts > 0
    mean = sums[has] / counts[has]
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        mean = np.clip(np.rint(mean), info.min, info.max)
    out[has] = mean.astype(dtype)
    return out


def level_box(box: tuple[slice, ...], factors: tuple[int, ...], shape: tuple[int, ...]) -> tuple[slice, ...]:
    """The cells of a level (of ``shape``, with ``factors``) whose blocks intersect a level-0 box."""
    return tuple(
        slice(min(s.start // f, n), min(-(-s.stop // f), n)) for s, f, n in zip(box, factors, shape)
    )
