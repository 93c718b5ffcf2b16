"""flip, sort and extend: reordering and padding along one axis (see package docstring)."""
from __future__ import annotations

import dataclasses
from dataclasses import replace

import numpy as np
import xarray as xr

from petacube.engine import ir
from petacube.engine.geometry.common import (
    _assign_coords,
    _axis,
    _check_cells,
    _fill_value,
    _grid_interval,
    _int,
    _source,
    _with_axes,
)
from petacube.engine.nulls import null_mask
from petacube.engine.values import CoverageValue, is_coverage, scalar_of
from petacube.errors import (
    InvalidParameterValue,
    WcpsError,
)


# ---- flip -------------------------------------------------------------------------------
def flip(ev, e: ir.Flip) -> CoverageValue:
    value = _source(ev, e.source, "flip")
    axis = _axis(value, e.axis, "flip")
    data = value.data.isel({axis.label: slice(None, None, -1)})
    if axis.label in value.data.coords:
        data = data.assign_coords({axis.label: value.data[axis.label].values})
    return value.with_data(data)


# ---- sort -------------------------------------------------------------------------------
def sort(ev, e: ir.Sort) -> CoverageValue:
    import dask

    value = _source(ev, e.source, "sort")
    axis = _axis(value, e.axis, "sort")
    n = axis.size
    free = _free_iterators(e.by, set())
    if free:
        keys = []
        for k in range(n):
            with ev.bound({name: k for name in free}):
                keys.append(_slice_key(ev.eval(e.by), what=f"sort key of slice {k}"))
    else:
        by = ev.eval(e.by)
        if not is_coverage(by):
            raise WcpsError(
                f"sort along {axis.label}: the key must vary per slice; give a coverage with axis {axis.label} "
                f"or an expression using the sort iterator, not the scalar {scalar_of(by)!r}"
            )
        da = by.single()
        if axis.label not in da.dims or da.sizes[axis.label] != n:
            raise WcpsError(
                f"sort along {axis.label}: the key coverage must have axis {axis.label} with {n} slices, "
                f"it has {dict(da.sizes)}"
            )
        valid = ~null_mask(da)
        others = [d for d in da.dims if d != axis.label]
        keys = [da.where(valid).astype("float64").mean(dim=others) if others else da.where(valid).astype("float64")]
    keys = dask.compute(*keys)
    keys = np.array([np.asarray(getattr(k, "values", k), dtype="float64") for k in keys], dtype="float64").reshape(-1)
    if keys.size != n:
        raise WcpsError(f"sort along {axis.label}: got {keys.size} keys for {n} slices")
    nulls = np.isnan(keys)
    ordered = np.where(nulls, 0.0, -keys if e.descending else keys)
    order = np.lexsort((np.arange(n), ordered, nulls))  # stable; null keys last
    data = value.data.isel({axis.label: order})
    if axis.label in value.data.coords:
        data = data.assign_coords({axis.label: value.data[axis.label].values})
    return value.with_data(data)


def _slice_key(v, what: str):
    if is_coverage(v):
        da = v.single()
        return da.where(~null_mask(da)).astype("float64").mean()
    if hasattr(v, "compute"):  # a lazy aggregate: computed with the other keys
        return v.astype("float64")
    v = scalar_of(v)
    try:
        return float(v)
    except (TypeError, ValueError):
        raise WcpsError(f"{what} is not a number: {v!r}") from None


def _free_iterators(node, bound: set[str]) -> set[str]:
    """Names of IteratorVar nodes not bound by a condenser/constructor inside ``node``."""
    if isinstance(node, ir.IteratorVar):
        return set() if node.name in bound else {node.name}
    if isinstance(node, (ir.Condense, ir.CoverageConstructor)):
        bound = bound | {it.variable for it in node.iterators}
    out: set[str] = set()
    for child in _children(node):
        out |= _free_iterators(child, bound)
    return out


def _children(node):
    if isinstance(node, (list, tuple)):
        for x in node:
            yield from _children(x)
    elif dataclasses.is_dataclass(node) and not isinstance(node, type):
        for f in dataclasses.fields(node):
            v = getattr(node, f.name)
            if isinstance(v, (ir.Expr, ir.AxisSubset, ir.AxisIterator, list, tuple)):
                yield v


# ---- extend -----------------------------------------------------------------------------
def extend(ev, e: ir.Extend) -> CoverageValue:
    from petacube.datacube import coordinate_number

    value = _source(ev, e.source, "extend")
    cov = value.coverage
    if not e.axes:
        raise WcpsError("extend needs at least one axis interval, e.g. extend($c, {E(500000:501000)})")
    new_axes = {}
    crop, pad = {}, {}
    for s in e.axes:
        axis = _axis(value, s.axis, "extend")
        if axis.irregular:
            raise WcpsError(f"extend: axis {axis.label} is irregular and cannot be extended")
        if s.is_slice:
            raise WcpsError(f"extend: axis {axis.label} needs an interval lo:hi, not a slice")
        crs = (s.crs or "").upper()
        lo, hi = ev._bound(s.lo), ev._bound(s.hi)
        if crs == "CRS:1" or "INDEX" in crs:
            a = 0 if lo is None else _int(lo, f"extend: grid bound of {axis.label}")
            b = axis.size - 1 if hi is None else _int(hi, f"extend: grid bound of {axis.label}")
        else:
            lo_n = axis.lower if lo is None else coordinate_number(cov, axis, lo)
            hi_n = axis.upper if hi is None else coordinate_number(cov, axis, hi)
            if lo_n > hi_n:
                raise InvalidParameterValue(f"extend: axis {axis.label}: the lower bound {lo} is above the upper bound {hi}")
            a, b = _grid_interval(axis, lo_n, hi_n)
        if b < a:
            raise InvalidParameterValue(f"extend: axis {axis.label}: empty grid interval {a}:{b}")
        if b < 0 or a > axis.size - 1:
            raise WcpsError(
                f"extend: the interval on {axis.label} (grid {a}:{b}) does not overlap the value's domain "
                f"(grid 0:{axis.size - 1}); extend to an interval containing it"
            )
        _check_cells(b - a + 1, f"extend on {axis.label}")
        new_axes[axis.label] = replace(axis.subset(a, b), storage_offset=0)
        crop[axis.label] = slice(max(a, 0), min(b, axis.size - 1) + 1)
        pad[axis.label] = (max(0, -a), max(0, b - (axis.size - 1)))
    data = value.data.isel(crop)
    bands = {}
    for name in value.band_names:
        da = data[name]
        widths = {k: v for k, v in pad.items() if v != (0, 0)}
        if widths:
            fill = _fill_value(da)
            out = da.pad(widths, mode="constant", constant_values=fill)
            if out.dtype != da.dtype:
                out = out.astype(da.dtype)
            out.attrs = dict(da.attrs)
            da = out
        bands[name] = da
    new_cov = _with_axes(cov, new_axes)
    ds = xr.Dataset(bands, attrs=value.data.attrs)
    ds = _assign_coords(ds, new_cov, list(new_axes))
    return CoverageValue(ds, new_cov, value.sliced)


