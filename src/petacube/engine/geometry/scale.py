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
from petacube.engine.nulls import set_nulls
from petacube.engine.values import CoverageValue
from petacube.errors import (
    InvalidParameterValue,
    WcpsError,
)


# ---- scale ------------------------------------------------------------------------------
def scale(ev, e: ir.Scale) -> CoverageValue:
    value = _source(ev, e.source, "scale")
    method = _resampling(e.method)
    targets = _scale_targets(ev, e, value)
    cov = value.coverage
    new_axes = {label: _resized(cov.axis(label), n) for label, n in targets.items() if n != cov.axis(label).size}
    new_cov = _with_axes(cov, new_axes)
    if not new_axes:
        return value
    if method != "nearest":
        y, x = _horizontal(value, f"scale with method {e.method}")
        if set(new_axes) - {y.label, x.label}:
            raise WcpsError(
                f"scale with method {e.method} resamples the horizontal axes only ({y.label}, {x.label}); "
                f"use method near to scale {', '.join(sorted(set(new_axes) - {y.label, x.label}))}"
            )
        src_crs = _rasterio_crs(cov.crs.component_of(x.label))
        ny, nx = new_axes.get(y.label, y), new_axes.get(x.label, x)
        ds = _warp(value, y, x, ny, nx, src_crs, src_crs, method)
        return CoverageValue(ds, new_cov, value.sliced)
    data = _pyramid_read(ev, e.source, value, targets)
    if data is None:
        index = {label: _nearest_index(cov.axis(label), axis.size) for label, axis in new_axes.items()}
        data = value.data.isel(index)
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
    from petacube.datacube import GridRegion

    cov = value.coverage
    if not cov.pyramid or cov.insitu or not _is_stored_read(source):
        return None
    best, best_cells = None, 1
    for k, factors in enumerate(cov.pyramid, start=1):
        if len(factors) != len(cov.axes):
            continue
        ok = True
        for axis, f in zip(cov.axes, factors):
            f = int(f)
            if f == 1:
                continue
            n_dst = targets.get(axis.label, axis.size)
            if axis.irregular or axis.label in value.sliced or axis.size / f < n_dst:
                ok = False
                break
        cells = int(np.prod([int(f) for f in factors]))
        if ok and cells > best_cells:
            best, best_cells = (k, tuple(int(f) for f in factors)), cells
    if best is None:
        return None
    level, factors = best
    level_axes, index = [], {}
    for axis, f in zip(cov.axes, factors):
        if f == 1:
            level_axes.append(axis)
            if axis.label in targets and axis.label not in value.sliced:
                index[axis.label] = _nearest_index(axis, targets[axis.label])
            continue
        off, step = axis.storage_offset, abs(axis.resolution)
        a0, a1 = off // f, (off + axis.size - 1) // f
        size = a1 - a0 + 1
        if axis.resolution > 0 or axis.points or axis.is_index:
            lower = axis.lower - off * step + a0 * f * step
        else:
            lower = axis.upper + off * step - a0 * f * step - size * f * step
        level_axes.append(replace(axis, lower=lower, resolution=axis.resolution * f, size=size, storage_offset=a0))
        src0 = _nearest_index(axis, targets.get(axis.label, axis.size))
        index[axis.label] = (off + src0) // f - a0
    level_cov = replace(cov, axes=tuple(level_axes))
    ds = ev.cube.lazy(GridRegion(level_cov, (), value.sliced), value.band_names, level=level)
    for name in ds.data_vars:
        set_nulls(ds[name], cov.band(name).nil_values)
    return ds.isel(index)


def _is_stored_read(e: ir.Expr) -> bool:
    while isinstance(e, ir.Field):
        e = e.source
    return isinstance(e, ir.CoverageRef) or (isinstance(e, ir.Subset) and isinstance(e.source, ir.CoverageRef))


