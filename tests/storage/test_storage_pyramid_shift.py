"""Pyramid levels against an independent block mean; shifting a mosaic that grows west."""

from __future__ import annotations

import itertools
import math

import numpy as np

from petacube.model import Band, NilValue

TILE = (1, 16, 16)
PYRAMID = ((1, 2, 2), (1, 4, 4), (2, 3, 3))


def _everything(shape):
    return tuple(slice(0, n) for n in shape)


def _expected_level(data: np.ndarray, factors, nulls, fill, dtype) -> np.ndarray:
    """Block means cell by cell: plain loops, nulls and NaN excluded."""
    dtype = np.dtype(dtype)
    shape = tuple(math.ceil(n / f) for n, f in zip(data.shape, factors))
    out = np.empty(shape, dtype=dtype)
    for idx in itertools.product(*(range(n) for n in shape)):
        block = data[tuple(slice(i * f, (i + 1) * f) for i, f in zip(idx, factors))].astype(np.float64).ravel()
        keep = [v for v in block if not np.isnan(v) and v not in nulls]
        if not keep:
            out[idx] = fill
        elif dtype.kind in "iu":
            out[idx] = np.rint(sum(keep) / len(keep))
        else:
            out[idx] = sum(keep) / len(keep)
    return out


def _coverage(make_coverage):
    bands = (Band("dn", "uint16", (NilValue(0),)), Band("refl", "float32", (NilValue(-9999),)))
    return make_coverage(nt=3, ny=37, nx=45, bands=bands, tile=TILE, pyramid=PYRAMID)


def _data(shape, seed=0):
    rng = np.random.default_rng(seed)
    dn = rng.integers(1, 5000, shape).astype("uint16")
    dn[rng.random(shape) < 0.3] = 0  # nulls
    dn[0, :8, :8] = 0  # whole blocks without a valid cell
    refl = rng.normal(0.2, 0.05, shape).astype("float32")
    refl[rng.random(shape) < 0.2] = -9999
    refl[rng.random(shape) < 0.1] = np.nan
    return {"dn": dn, "refl": refl}


def _check_levels(store, cov, data):
    for level, factors in enumerate(PYRAMID, start=1):
        for band, nulls, fill in (("dn", {0}, 0), ("refl", {-9999}, -9999)):
            expected = _expected_level(data[band], factors, nulls, fill, cov.band(band).dtype)
            got = store.read(cov, band, _everything(expected.shape), level=level)
            np.testing.assert_allclose(got, expected, rtol=1e-6, err_msg=f"{band} level {level}")


def test_pyramid_levels_are_block_means_of_valid_cells(store, make_coverage):
    cov = _coverage(make_coverage)
    data = _data(cov.storage_shape)
    with store.transaction("write") as tx:
        tx.ensure_coverage(cov)
        tx.write_bands(cov, _everything(cov.storage_shape), data)
        tx.update_pyramid(cov, _everything(cov.storage_shape))
    _check_levels(store, cov, data)


def test_pyramid_update_of_a_region_sees_uncommitted_data(store, make_coverage):
    cov = _coverage(make_coverage)
    data = _data(cov.storage_shape)
    with store.transaction("write") as tx:
        tx.ensure_coverage(cov)
        tx.write_bands(cov, _everything(cov.storage_shape), data)
        tx.update_pyramid(cov, _everything(cov.storage_shape))
    patch = _data((1, 9, 11), seed=7)
    region = (slice(2, 3), slice(13, 22), slice(5, 16))  # not aligned to any factor
    with store.transaction("patch") as tx:
        tx.write_bands(cov, region, patch)
        tx.update_pyramid(cov, region)
    for band in data:
        data[band][region] = patch[band]
    _check_levels(store, cov, data)


def test_shift_moves_data_toward_higher_indices(store, make_coverage):
    cov = make_coverage(nt=2, ny=20, nx=40, tile=TILE, pyramid=((1, 2, 2),))
    old = np.random.default_rng(1).integers(1, 60000, cov.storage_shape).astype("uint16")
    with store.transaction("east") as tx:
        tx.ensure_coverage(cov)
        tx.write(cov, "b", _everything(cov.storage_shape), old)
    expected = old
    # a new tile 5 columns west (not a whole tile), then one 16 columns west (a whole tile)
    for step, shift in enumerate((5, 16)):
        width = expected.shape[2] + shift
        x_lower = 500000.0 - 10 * (expected.shape[2] + shift - 40)  # the new columns lie west
        grown = make_coverage(nt=2, ny=20, nx=width, tile=TILE, pyramid=((1, 2, 2),), x_lower=x_lower)
        west = np.full((2, 20, shift), 7 + step, dtype="uint16")
        with store.transaction("west") as tx:
            tx.ensure_coverage(grown)
            tx.shift(grown, "E", shift)
            tx.write(grown, "b", (slice(0, 2), slice(0, 20), slice(0, shift)), west)
            tx.update_pyramid(grown, (slice(0, 2), slice(0, 20), slice(0, shift)))
        expected = np.concatenate([west, expected], axis=2)
        np.testing.assert_array_equal(store.read(grown, "b", _everything(grown.storage_shape)), expected)
        level1 = _expected_level(expected, (1, 2, 2), {0}, 0, "uint16")
        np.testing.assert_array_equal(store.read(grown, "b", _everything(level1.shape), level=1), level1)


def test_shift_leaves_fill_values_behind(store, make_coverage):
    cov = make_coverage(nt=1, ny=16, nx=32, tile=TILE)
    old = np.arange(1, 1 + 16 * 32, dtype="uint16").reshape(1, 16, 32)
    with store.transaction("w") as tx:
        tx.ensure_coverage(cov)
        tx.write(cov, "b", _everything(cov.storage_shape), old)
    with store.transaction("shift") as tx:
        tx.shift(cov, "E", 16)  # no growth: the last 16 columns fall off the end
    expected = np.zeros_like(old)
    expected[..., 16:] = old[..., :16]
    np.testing.assert_array_equal(store.read(cov, "b", _everything(cov.storage_shape)), expected)
