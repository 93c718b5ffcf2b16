"""scale: resampling to a target grid, reading the pyramid level it needs (see package docstring)."""
from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from petacube.engine import ir
from petacube.engine.geometry.common import (
    _EPS,
    _assign_coords,
    _axis,
    _check_cells,
    _grid_interval,
    _horizontal,
    _int,
    _number,
    _positive,
    _rasterio_crs,
    _resampling,
    _source,
    _warp,
    _with_axes,
)
from petacube.engine.geometry.pyramid_read import pick_level, planned, read_level
from petacube.engine.values import CoverageValue
from petacube.errors import (
    InvalidParameterValue,
    WcpsError,
)


# ---- scale ------------------------------------------------------------------------------
def scale(ev, e: ir.Scale) -> CoverageValue:
    # a stored read is only described first: its full resolution is planned (and counted by
    # the read guard) only when no pyramid level serves the target
    value = planned(ev, e.source) or _source(ev, e.source, "scale")

    def full() -> CoverageValue:
        return _source(ev, e.source, "scale")

    method = _resampling(e.method)
    targets = _scale_targets(ev, e, value)
    cov = value.coverage
    new_axes = {label: _resized(cov.axis(label), n) for label, n in targets.items() if n != cov.axis(label).size}
    new_cov = _with_axes(cov, new_axes)
    if not new_axes:
        return full()
    if method != "nearest":
        y, x = _horizontal(value, f"scale with method {e.method}")
        if set(new_axes) - {y.label, x.label}:
            raise WcpsError(
                f"scale with method {e.method} resamples the horizontal axes only ({y.label}, {x.label}); "
                f"use method near to scale {', '.join(sorted(set(new_axes) - {y.label, x.label}))}"
            )
        src_crs = _rasterio_crs(cov.crs.component_of(x.label))
        ny, nx = new_axes.get(y.label, y), new_axes.get(x.label, x)
        source, sy, sx = value, y, x
        picked = pick_level(e.source, value, {y.label: ny.size, x.label: nx.size})
        if picked is not None:  # resample from the coarsest level with enough cells
            source = read_level(ev, value, *picked)
            sy, sx = source.coverage.axis(y.label), source.coverage.axis(x.label)
        else:
            source = full()
        ds = _warp(source, sy, sx, ny, nx, src_crs, src_crs, method)
        return CoverageValue(ds, new_cov, value.sliced)
    data = _pyramid_read(ev, e.source, value, targets)
    if data is None:
        index = {label: _nearest_index(cov.axis(label), axis.size) for label, axis in new_axes.items()}
        data = full().data.isel(index)
    data = _assign_coords(data, new_cov, list(new_axes))
    return CoverageValue(data, new_cov, value.sliced)


def _scale_targets(ev, e: ir.Scale, value: CoverageValue) -> dict[str, int]:
    from petacube.datacube import coordinate_number

    cov = value.coverage
    specs = sum(x is not None and x != () for x in (e.factor, e.axis_factors, e.sizes, e.extents, e.like))
    if specs != 1:
        raise WcpsError("scale needs exactly one of: a factor, axis factors, axis sizes, axis extents, or another coverage's domain")
    targets: dict[str, int] = {}
    if e.factor is not None:
        f = _positive(ev, e.factor, "scale factor")
        for axis in cov.axes:
            if axis.label in value.sliced or axis.irregular or axis.points:
                continue
            targets[axis.label] = _scaled_size(axis.size, f, axis.label)
    for label, expr in e.axis_factors:
        axis = _axis(value, label, "scale")
        f = _positive(ev, expr, f"scale factor of axis {label}")
        n = _scaled_size(axis.size, f, label)
        targets[axis.label] = n
    for label, expr in e.sizes:
        axis = _axis(value, label, "scale")
        n = _int(_number(ev, expr, f"scale size of axis {label}"), f"scale size of axis {label}")
        if n < 1:
            raise InvalidParameterValue(f"scale: axis {label} needs at least 1 cell, got {n}")
        targets[axis.label] = n
    for label, lo_e, hi_e in e.extents:
        axis = _axis(value, label, "scale")
        lo, hi = ev._bound(lo_e), ev._bound(hi_e)
        if axis.irregular:
            raise WcpsError(f"scale: axis {label} is irregular; only its number of cells can be kept")
        lo_n = axis.lower if lo is None else coordinate_number(cov, axis, lo)
        hi_n = axis.upper if hi is None else coordinate_number(cov, axis, hi)
        if lo_n > hi_n:
            raise InvalidParameterValue(f"scale: axis {label}: the lower bound {lo} is above the upper bound {hi}")
        a, b = _grid_interval(axis, lo_n, hi_n)
        targets[axis.label] = max(1, b - a + 1)
    if e.like is not None:
        other = ev._coverage(ev.eval(e.like), "scale like")
        common = [d for d in value.dims if d in other.dims]
        if not common:
            raise WcpsError(
                f"scale: the target coverage has none of the source's axes ({', '.join(value.dims)}); "
                f"its axes are {', '.join(other.dims) or 'none'}"
            )
        for label in common:
            targets[label] = other.coverage.axis(label).size
    for label, n in targets.items():
        axis = cov.axis(label)
        if axis.irregular and n != axis.size:
            raise WcpsError(f"scale: axis {label} is irregular and cannot be resampled (it has {axis.size} slices, asked for {n})")
        _check_cells(n, f"scale on {label}")
    return targets


def _scaled_size(n: int, f: float, label: str) -> int:
    out = max(1, math.floor(n * f + 0.5 + _EPS))
    _check_cells(out, f"scale on {label}")
    return out


def _resized(axis, n: int):
    if axis.irregular or n == axis.size:
        return axis
    if axis.points:
        res = axis.resolution if n == 1 or axis.size == 1 else axis.resolution * (axis.size - 1) / (n - 1)
    else:
        res = axis.resolution * axis.size / n
    return replace(axis, resolution=res, size=n, storage_offset=0)


def _nearest_index(axis, n_dst: int) -> np.ndarray:
    n_src = axis.size
    i = np.arange(n_dst, dtype=np.int64)
    if axis.points and not axis.is_index:
        if n_dst == 1:
            return np.zeros(1, dtype=np.int64)
        return np.minimum(np.floor(i * (n_src - 1) / (n_dst - 1) + 0.5).astype(np.int64), n_src - 1)
    return np.minimum(((2 * i + 1) * n_src) // (2 * n_dst), n_src - 1)


def _pyramid_read(ev, source: ir.Expr, value: CoverageValue, targets: dict[str, int]):
    """Nearest-neighbour samples read from the coarsest fitting pyramid level, or None."""
    picked = pick_level(source, value, targets)
    if picked is None:
        return None
    level, factors = picked
    cov = value.coverage
    index = {}
    for axis, f in zip(cov.axes, factors):
        if f == 1:
            if axis.label in targets and axis.label not in value.sliced:
                index[axis.label] = _nearest_index(axis, targets[axis.label])
            continue
        a0 = axis.storage_offset // f
        src0 = _nearest_index(axis, targets.get(axis.label, axis.size))
        index[axis.label] = (axis.storage_offset + src0) // f - a0
    return read_level(ev, value, level, factors).data.isel(index)
