"""Geometric operations of the engine: scale, extend, crsTransform, clip, flip, sort.

Each function takes the `Evaluator` and its IR node and returns a `CoverageValue` whose
`Coverage` describes the new domain, so later subsets keep the rasdaman arithmetic.

Semantics (rasdaman's, with the choices petacube makes where its documentation is silent):

* **flip(e, a)**: cell values mirrored along axis ``a``; the domain is unchanged. Lazy.
* **sort e along a [asc|desc] by k**: the slices along ``a`` are reordered by one key per
  slice; the domain (coordinates of ``a``) is unchanged, the values move. The key is
  computed in one of two ways:

  - ``k`` holds a free iterator variable (rasdaman's ``sort $c along ansi as $t by
    avg($c[ansi($t)])``): ``k`` is evaluated once per slice with the variable bound to
    the slice's grid coordinate (0-based in the sorted value; as in condensers, a subset
    at an iterator is a grid subset). A coverage result is averaged over its non-null
    cells.
  - otherwise ``k`` is evaluated once and must be a coverage having axis ``a`` with the
    same number of slices: its non-null cells are averaged over all other axes, giving
    one key per slice (``sort $c along ansi by $c.B08`` sorts dates by mean NIR).

  The sort is stable; slices whose key is null (no valid cell) go last in both orders.
  Keys are computed when the sort is built; the reordering itself stays lazy.
* **extend(e, {a(lo:hi), ...})**: the value on the grid interval ``lo:hi`` of each named
  axis, cells outside the source's domain set to the band's null value (its first single
  null value, else 0). Geo bounds use the trim arithmetic of `petacube.model.axis`
  without clipping to the extent (first cell: the one holding the near bound; count:
  ``floor((hi - lo) / |res| + 0.5)``); ``CRS:1`` bounds are grid indices of the value
  (negative below its first cell). An interval inside the domain trims. Resolution and
  cell alignment are kept; irregular axes cannot be extended. Lazy.
* **scale(e, spec)**: a target cell count per axis, same geo extent (resolution adjusted):

  - ``factor f``: every regular area axis (not sliced, not time points, not irregular)
    gets ``round(n·f)`` cells, at least 1 (``scale($c, 2)`` doubles the cells per
    axis, ``0.5`` halves them);
  - ``axis_factors {a: f}``: the same per named axis;
  - ``sizes {a: n}``: ``n`` cells (the translator turns ``a:"CRS:1"(0:99)`` into 100);
  - ``extents {a: (lo, hi)}``: as many cells as the geo interval ``lo:hi`` covers on the
    source grid (the trim count ``floor((hi - lo) / |res| + 0.5)``, at least 1);
  - ``like e2``: the cell counts of the axes ``e2`` shares with the source.

  Method ``near`` (default): target cell ``i`` takes source cell
  ``floor((i + 0.5) · n_src / n_dst)`` (time-point axes: ``round(i · (n_src-1) /
  (n_dst-1))``), lazily (index arrays, only the needed tiles are read). When the source
  is a read of a stored coverage with pyramid levels, the coarsest level that still has
  at least as many cells as the target on every axis is read instead (level factors of
  sliced and unscaled axes must be 1) and cell ``i`` takes the level cell holding that
  same source cell. Other methods (bilinear, cubic, average, mode, ...) resample the
  horizontal plane with ``rasterio.warp.reproject`` (only x/y axes may change size).
* **crsTransform(e, {crs}, method, {resolutions}, {bbox})**: the horizontal plane
  reprojected with ``rasterio.warp.reproject`` onto a north-up grid of the target CRS;
  other axes (time) kept. Target grid: GDAL's default (``calculate_default_transform``)
  unless resolutions (by target axis label, e.g. ``Lat``/``Long``) and/or a bbox (target
  axis labels, in target coordinates) are given; with a bbox the grid starts at its
  west/north corner with ``round(extent / res)`` cells. Cells the source does not cover
  are null. The result's CRS has the target's axis labels; grid order stays (..., y, x),
  e.g. (Lat, Long) for EPSG:4326. Computed when the result is computed (one dask task).
* **clip(e, WKT [, crs])**: WKT coordinates are written in the axis order of the
  coverage's horizontal CRS (E N for EPSG:32633, Lat Long for EPSG:4326), or of ``crs``
  when given (then transformed with pyproj). 2-D geometries only.

  - POLYGON / MULTIPOLYGON: the domain is trimmed to the cells intersecting the
    geometry's bounding box (within the coverage); cells whose centre lies outside the
    geometry get the band's null value (else 0). Every slice of other axes is clipped
    alike. Lazy.
  - LINESTRING: the cells along the line (Bresenham between the cells holding
    consecutive vertices, joints not repeated) become a new axis ``i`` (CRS
    ``OGC/0/Index1D``, 0..n-1) replacing the horizontal pair: a 2-D source gives a 1-D
    coverage, (time, y, x) gives (time, i). ``with_coordinates`` adds, before the
    bands, one float64 band per horizontal axis in CRS order (e.g. ``E``, ``N``)
    holding the cell-centre coordinates. Vertices outside the coverage are an error.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import replace
from typing import Any

import numpy as np
import xarray as xr

from petacube.engine import ir
from petacube.engine.nulls import null_mask, nulls_of, set_nulls
from petacube.engine.values import CoverageValue, is_coverage, scalar_of
from petacube.errors import (
    InvalidAxisLabel,
    InvalidCrs,
    InvalidParameterValue,
    PetacubeError,
    ResultTooLarge,
    WcpsError,
)
from petacube.model import Band, Coverage, Crs, CrsAxis, CrsComponent, RegularAxis

_EPS = 1e-9
_MAX_AXIS_CELLS = 100_000_000  # per axis; the result size limit checks the whole result later

RESAMPLING = {
    "near": "nearest", "nearest": "nearest", "bilinear": "bilinear", "cubic": "cubic",
    "cubicspline": "cubic_spline", "cubic_spline": "cubic_spline", "lanczos": "lanczos",
    "average": "average", "avg": "average", "mode": "mode", "max": "max", "min": "min",
    "med": "med", "median": "med", "q1": "q1", "q3": "q3", "sum": "sum", "rms": "rms",
}


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


def _grid_interval(axis, lo: float, hi: float) -> tuple[int, int]:
    """Grid indices of the trim lo:hi on ``axis``, not clipped to its extent."""
    if axis.is_index:
        return math.ceil(lo - axis.lower - _EPS), math.floor(hi - axis.lower + _EPS)
    step = abs(axis.resolution)
    if axis.points:
        return math.ceil((lo - axis.lower) / step - _EPS), math.floor((hi - axis.lower) / step + _EPS)
    if axis.resolution > 0:
        a = math.floor((lo - axis.lower) / step + _EPS)
    else:
        a = math.floor((axis.upper - hi) / step + _EPS)
    count = max(1, math.floor((hi - lo) / step + 0.5 + _EPS))
    return a, a + count - 1


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


# ---- crsTransform -------------------------------------------------------------------------
def crs_transform(ev, e: ir.CrsTransform) -> CoverageValue:
    from rasterio.warp import calculate_default_transform, transform_bounds

    value = _source(ev, e.source, "crsTransform")
    method = _resampling(e.method)
    cov = value.coverage
    y, x = _horizontal(value, "crsTransform")
    src_comp = cov.crs.component_of(x.label)
    dst_comp = _horizontal_component(e.target_crs, "crsTransform")
    src_crs, dst_crs = _rasterio_crs(src_comp), _rasterio_crs(dst_comp)
    kinds = {a.kind: a for a in dst_comp.axes}
    dy, dx = kinds["y"], kinds["x"]
    labels = {a.label: a.kind for a in dst_comp.axes}

    res: dict[str, float] = {}
    for label, expr in e.resolutions:
        if label not in labels:
            raise InvalidAxisLabel(f"crsTransform: {dst_comp.identifier} has no axis '{label}'; its axes are {', '.join(labels)}")
        res[labels[label]] = abs(_positive(ev, expr, f"crsTransform resolution of {label}"))
    box: dict[str, tuple[float, float]] = {}
    for s in e.bbox:
        if s.axis not in labels:
            raise InvalidAxisLabel(f"crsTransform: {dst_comp.identifier} has no axis '{s.axis}'; its axes are {', '.join(labels)}")
        if s.is_slice:
            raise WcpsError(f"crsTransform: the bounding box needs an interval on {s.axis}, not a slice")
        lo, hi = (_float(ev._bound(b), f"crsTransform bounding box of {s.axis}") for b in (s.lo, s.hi))
        box[labels[s.axis]] = (lo, hi)

    left, right, bottom, top = x.lower, x.upper, y.lower, y.upper
    try:
        if not res and not box:
            transform, width, height = calculate_default_transform(src_crs, dst_crs, x.size, y.size, left, bottom, right, top)
            xres, yres = transform.a, -transform.e
            west, north = transform.c, transform.f
        else:
            dl, db, dr, dt = transform_bounds(src_crs, dst_crs, left, bottom, right, top, densify_pts=21)
            for kind, (lo, hi) in box.items():
                if lo is not None and hi is not None and lo >= hi:
                    raise InvalidParameterValue(f"crsTransform: empty bounding box {lo}:{hi} on {kind} axis")
            xlo, xhi = box.get("x", (dl, dr))
            ylo, yhi = box.get("y", (db, dt))
            xlo, xhi = (dl if xlo is None else xlo), (dr if xhi is None else xhi)
            ylo, yhi = (db if ylo is None else ylo), (dt if yhi is None else yhi)
            if "x" in res and "y" in res:
                xres, yres = res["x"], res["y"]
            else:
                t, w, h = calculate_default_transform(src_crs, dst_crs, x.size, y.size, left, bottom, right, top)
                xres, yres = res.get("x", t.a), res.get("y", -t.e)
            width = max(1, int(math.floor((xhi - xlo) / xres + 0.5)))
            height = max(1, int(math.floor((yhi - ylo) / yres + 0.5)))
            west, north = xlo, yhi
    except PetacubeError:
        raise
    except Exception as exc:  # noqa: BLE001 - GDAL cannot project the extent
        raise WcpsError(f"crsTransform to {dst_comp.identifier}: cannot compute the target grid ({exc})") from None
    _check_cells(width, "crsTransform")
    _check_cells(height, "crsTransform")
    new_x = RegularAxis(dx.label, dx, float(west), float(xres), int(width))
    new_y = RegularAxis(dy.label, dy, float(north - height * yres), -float(yres), int(height))
    comps = tuple(dst_comp if c == src_comp else c for c in cov.crs.components)
    axes = tuple(new_y if a.label == y.label else new_x if a.label == x.label else a for a in cov.axes)
    try:
        new_cov = replace(cov, crs=Crs(comps), axes=axes, pyramid=(), tile_shape=None, insitu=False)
    except PetacubeError as exc:
        raise WcpsError(f"crsTransform to {dst_comp.identifier}: {exc}") from None
    ds = _warp(value, y, x, new_y, new_x, src_crs, dst_crs, method)
    return CoverageValue(ds, new_cov, value.sliced)


def _horizontal_component(text: str, what: str) -> CrsComponent:
    try:
        crs = Crs.parse(text)
    except InvalidCrs as exc:
        raise InvalidCrs(f"{what}: {exc}") from None
    comps = [c for c in crs.components if c.pyproj_crs is not None]
    if len(comps) != 1 or not {"x", "y"} <= {a.kind for a in comps[0].axes}:
        raise InvalidCrs(f"{what}: '{text}' is not a horizontal (geographic or projected) CRS; use one such as EPSG:4326")
    return comps[0]


def _rasterio_crs(comp: CrsComponent):
    from rasterio.crs import CRS

    if comp.pyproj_crs is None:
        raise WcpsError(f"{comp.identifier} is not a geographic or projected CRS")
    return CRS.from_wkt(comp.pyproj_crs.to_wkt())


def _transform(y, x):
    from affine import Affine

    return Affine(x.resolution, 0.0, x.origin, 0.0, y.resolution, y.origin)


def _warp(value: CoverageValue, y, x, dst_y, dst_x, src_crs, dst_crs, method: str) -> xr.Dataset:
    """Every band's horizontal plane resampled onto (dst_y, dst_x), lazily (one task per band)."""
    import dask
    import dask.array as dska
    from rasterio.enums import Resampling
    from rasterio.warp import reproject

    resampling = Resampling[method]
    src_t, dst_t = _transform(y, x), _transform(dst_y, dst_x)
    out = {}
    for name in value.band_names:
        da = value.data[name]
        others = [d for d in da.dims if d not in (y.label, x.label)]
        da = da.transpose(*others, y.label, x.label)
        dtype = da.dtype
        fill = _fill_value(da)
        src_nodata = fill if nulls_of(da) else None
        shape = tuple(da.sizes[d] for d in others) + (dst_y.size, dst_x.size)

        def run(arr, dtype=dtype, fill=fill, src_nodata=src_nodata, shape=shape):
            arr = np.asarray(arr)
            work = np.uint8 if dtype == bool else dtype
            src = arr.astype(work, copy=False).reshape((-1,) + arr.shape[-2:])
            dst = np.full((src.shape[0],) + shape[-2:], fill, dtype=work)
            try:
                reproject(src, dst, src_transform=src_t, src_crs=src_crs, src_nodata=src_nodata,
                          dst_transform=dst_t, dst_crs=dst_crs, dst_nodata=fill, resampling=resampling)
            except Exception as exc:  # noqa: BLE001 - GDAL errors (dtype, projection) as user errors
                raise WcpsError(f"resampling {name} failed: {exc}") from None
            return dst.reshape(shape).astype(dtype, copy=False)

        arr = dska.from_delayed(dask.delayed(run)(da.data), shape=shape, dtype=dtype)
        res = xr.DataArray(arr, dims=(*others, dst_y.label, dst_x.label), attrs=dict(da.attrs))
        out[name] = res
    ds = xr.Dataset(out, attrs=value.data.attrs)
    coords = {d: value.data[d].values for d in ds.dims if d in value.data.coords and d not in (dst_y.label, dst_x.label)}
    coords[dst_y.label] = dst_y.coordinates()
    coords[dst_x.label] = dst_x.coordinates()
    return ds.assign_coords(coords)


# ---- clip ---------------------------------------------------------------------------------
def clip(ev, e: ir.Clip) -> CoverageValue:
    value = _source(ev, e.source, "clip")
    y, x = _horizontal(value, "clip")
    comp = value.coverage.crs.component_of(x.label)
    geom = _geometry(e.wkt, comp, e.crs)
    kind = geom.geom_type
    if kind in ("Polygon", "MultiPolygon"):
        if e.with_coordinates:
            raise WcpsError("clip: coordinates can be returned for a LINESTRING only")
        return _clip_polygon(value, y, x, geom)
    if kind == "LineString":
        return _clip_line(value, y, x, comp, geom, e.with_coordinates)
    raise WcpsError(f"clip: {kind.upper()} is not supported; use POLYGON, MULTIPOLYGON or LINESTRING")


def _geometry(wkt: str, comp: CrsComponent, crs_text: str | None):
    import shapely

    try:
        geom = shapely.from_wkt(str(wkt).strip())
    except Exception as exc:  # noqa: BLE001 - GEOS parse errors
        raise InvalidParameterValue(f"clip: '{_short(wkt)}' is not valid WKT ({exc})") from None
    if geom is None or geom.is_empty:
        raise InvalidParameterValue(f"clip: the geometry '{_short(wkt)}' is empty")
    if geom.has_z:
        raise WcpsError("clip: only 2-D geometries (horizontal coordinates) are supported")
    order = [a.kind for a in comp.axes][:2]
    if crs_text:
        import pyproj

        src = _horizontal_component(crs_text, "clip")
        src_order = [a.kind for a in src.axes][:2]
        if (src.authority, src.code) != (comp.authority, comp.code):
            try:
                tr = pyproj.Transformer.from_crs(src.pyproj_crs, comp.pyproj_crs)  # authority axis orders
            except pyproj.exceptions.ProjError as exc:
                raise InvalidCrs(f"clip: cannot transform from {src.identifier} to {comp.identifier}: {exc}") from None
            geom = shapely.transform(geom, lambda c: np.column_stack(tr.transform(c[:, 0], c[:, 1])))
        else:
            order = src_order
    if order == ["y", "x"]:
        geom = shapely.transform(geom, lambda c: c[:, ::-1])
    if not geom.is_valid and geom.geom_type in ("Polygon", "MultiPolygon"):
        geom = shapely.make_valid(geom)
    if not np.all(np.isfinite(geom.bounds)):
        raise InvalidParameterValue("clip: the geometry cannot be placed in the coverage's CRS (infinite coordinates)")
    return geom


def _cells_intersecting(axis, lo: float, hi: float) -> tuple[int, int] | None:
    """Grid range of the cells of ``axis`` that intersect [lo, hi] (None when none do)."""
    lo, hi = max(lo, axis.lower), min(hi, axis.upper)
    if lo > hi:
        return None
    step = abs(axis.resolution)
    if axis.resolution > 0:
        a, b = math.floor((lo - axis.lower) / step + _EPS), math.ceil((hi - axis.lower) / step - _EPS) - 1
    else:
        a, b = math.floor((axis.upper - hi) / step + _EPS), math.ceil((axis.upper - lo) / step - _EPS) - 1
    a, b = max(a, 0), min(max(b, a), axis.size - 1)
    return a, b


def _clip_polygon(value: CoverageValue, y, x, geom) -> CoverageValue:
    from rasterio.features import geometry_mask

    minx, miny, maxx, maxy = geom.bounds
    cols, rows = _cells_intersecting(x, minx, maxx), _cells_intersecting(y, miny, maxy)
    if cols is None or rows is None:
        raise WcpsError(
            f"clip: the geometry (bounds {minx:g} {miny:g}, {maxx:g} {maxy:g}) lies outside the coverage "
            f"({x.label} {x.lower:g}:{x.upper:g}, {y.label} {y.lower:g}:{y.upper:g})"
        )
    nx, ny = x.subset(*cols), y.subset(*rows)
    data = value.data.isel({x.label: slice(cols[0], cols[1] + 1), y.label: slice(rows[0], rows[1] + 1)})
    inside = geometry_mask([geom], out_shape=(ny.size, nx.size), transform=_transform(ny, nx), invert=True, all_touched=False)
    mask = xr.DataArray(inside, dims=(y.label, x.label))
    bands = {}
    for name in value.band_names:
        da = data[name]
        fill = _fill_value(da)
        out = da.where(mask, fill)
        if out.dtype != da.dtype:
            out = out.astype(da.dtype)
        out.attrs = dict(da.attrs)
        bands[name] = out
    new_cov = _with_axes(value.coverage, {x.label: nx, y.label: ny})
    ds = xr.Dataset(bands, attrs=value.data.attrs)
    return CoverageValue(_assign_coords(ds, new_cov, [x.label, y.label]), new_cov, value.sliced)


def _clip_line(value: CoverageValue, y, x, comp: CrsComponent, geom, with_coordinates: bool) -> CoverageValue:
    cells: list[tuple[int, int]] = []
    for k, (px, py) in enumerate(geom.coords):
        col = math.floor((px - x.origin) / x.resolution + _EPS)
        row = math.floor((py - y.origin) / y.resolution + _EPS)
        if not (0 <= col < x.size and 0 <= row < y.size):
            raise WcpsError(
                f"clip: vertex {k + 1} ({px:g} {py:g}) of the LINESTRING lies outside the coverage "
                f"({x.label} {x.lower:g}:{x.upper:g}, {y.label} {y.lower:g}:{y.upper:g})"
            )
        line = _bresenham(cells[-1], (row, col)) if cells else [(row, col)]
        cells.extend(line[1:] if cells else line)
    rows = np.array([r for r, _ in cells], dtype=np.int64)
    cols = np.array([c for _, c in cells], dtype=np.int64)
    label = "i"
    if label in value.coverage.dims:
        raise WcpsError(f"clip: the coverage already has an axis '{label}'")
    data = value.data.isel({y.label: xr.DataArray(rows, dims=label), x.label: xr.DataArray(cols, dims=label)})
    data = data.drop_vars([y.label, x.label], errors="ignore")
    cov = value.coverage
    order = [a.label for a in cov.axes]
    first = min(order.index(y.label), order.index(x.label))
    index_axis = RegularAxis(label, CrsAxis(label, "index", "GridSpacing", "index"), 0.0, 1.0, len(cells))
    axes = []
    for i, a in enumerate(cov.axes):
        if i == first:
            axes.append(index_axis)
        elif a.label not in (y.label, x.label):
            axes.append(a)
    comps = tuple(CrsComponent("OGC", "Index1D") if c == comp else c for c in cov.crs.components)
    dims = [a.label for a in axes if a.label not in value.sliced]
    bands = {}
    band_meta = []
    if with_coordinates:
        centres = {x.label: x.coordinates()[cols], y.label: y.coordinates()[rows]}
        template = data[value.band_names[0]]
        for a in comp.axes:
            lab = a.label if a.label in centres else (x.label if a.kind == "x" else y.label)
            if lab in value.band_names:
                raise WcpsError(f"clip with coordinates: a band is already named {lab}")
            coord = xr.DataArray(centres[lab], dims=label).broadcast_like(template).astype("float64")
            bands[lab] = coord.transpose(*dims)
            band_meta.append(Band(lab, "float64"))
    for name in value.band_names:
        bands[name] = data[name].transpose(*dims)
    new_cov = replace(cov, crs=Crs(comps), axes=tuple(axes), pyramid=(), tile_shape=None, insitu=False,
                      bands=tuple(band_meta) + cov.bands)
    ds = xr.Dataset(bands, attrs=value.data.attrs).assign_coords({label: np.arange(len(cells), dtype=np.float64)})
    return CoverageValue(ds, new_cov, value.sliced)


def _bresenham(p0: tuple[int, int], p1: tuple[int, int]) -> list[tuple[int, int]]:
    """Grid cells from p0 to p1 (both included), 8-connected."""
    (r0, c0), (r1, c1) = p0, p1
    dr, dc = abs(r1 - r0), abs(c1 - c0)
    sr, sc = (1 if r1 > r0 else -1), (1 if c1 > c0 else -1)
    err = dc - dr
    out = [(r0, c0)]
    r, c = r0, c0
    while (r, c) != (r1, c1):
        e2 = 2 * err
        if e2 > -dr:
            err -= dr
            c += sc
        if e2 < dc:
            err += dc
            r += sr
        out.append((r, c))
    return out


# ---- helpers ------------------------------------------------------------------------------
def _source(ev, e: ir.Expr, what: str) -> CoverageValue:
    return ev._coverage(ev.eval(e), what)


def _axis(value: CoverageValue, label: str, what: str):
    axis = value.coverage.axis(label)  # InvalidAxisLabel naming the axes
    if axis.label in value.sliced:
        raise WcpsError(f"{what}: axis {label} was sliced away; the value's axes are {', '.join(value.dims)}")
    return axis


def _horizontal(value: CoverageValue, what: str):
    """The (y, x) axes of a value: regular, not sliced, in a geographic/projected CRS."""
    found = {}
    for axis in value.coverage.axes:
        if axis.crs_axis.kind in ("x", "y"):
            found[axis.crs_axis.kind] = axis
    if set(found) != {"x", "y"}:
        raise WcpsError(f"{what} needs horizontal x/y axes; the coverage's axes are {', '.join(value.coverage.dims)}")
    y, x = found["y"], found["x"]
    for a in (y, x):
        if a.label in value.sliced:
            raise WcpsError(f"{what} needs both horizontal axes, but {a.label} was sliced away")
        if a.irregular:
            raise WcpsError(f"{what}: the horizontal axis {a.label} is irregular")
    return y, x


def _resampling(method: str | None) -> str:
    key = (method or "near").strip().lower()
    if key not in RESAMPLING:
        raise InvalidParameterValue(
            f"unknown resampling method '{method}'; use one of {', '.join(sorted(set(RESAMPLING)))}"
        )
    return RESAMPLING[key]


def _number(ev, e: ir.Expr, what: str) -> float:
    v = ev.eval(e)
    if is_coverage(v):
        raise WcpsError(f"{what} must be a number, not a coverage")
    v = scalar_of(v)
    if hasattr(v, "compute"):
        v = scalar_of(v.compute())
    return _float(v, what)


def _float(v: Any, what: str) -> float | None:
    if v is None:
        return None
    try:
        out = float(v)
    except (TypeError, ValueError):
        raise InvalidParameterValue(f"{what} must be a number, got {v!r}") from None
    if not math.isfinite(out):
        raise InvalidParameterValue(f"{what} must be a finite number, got {v!r}")
    return out


def _positive(ev, e: ir.Expr, what: str) -> float:
    f = _number(ev, e, what)
    if f <= 0:
        raise InvalidParameterValue(f"{what} must be greater than 0, got {f:g}")
    return f


def _int(v, what: str) -> int:
    f = _float(v, what)
    if f is None or abs(f - round(f)) > 1e-9:
        raise InvalidParameterValue(f"{what} must be an integer, got {v!r}")
    return int(round(f))


def _check_cells(n: int, what: str) -> None:
    if n > _MAX_AXIS_CELLS:
        raise ResultTooLarge(f"{what}: {n} cells along one axis is too many; ask for fewer")


def _fill_value(da: xr.DataArray):
    """The value for cells without data: the band's first single null value, else 0."""
    singles = [low for low, high in nulls_of(da) if high is None]
    fill = singles[0] if singles else 0
    if da.dtype == bool:
        return False
    if not np.issubdtype(da.dtype, np.floating) and not np.issubdtype(da.dtype, np.complexfloating):
        if isinstance(fill, float) and not math.isfinite(fill):
            return 0
        info = np.iinfo(da.dtype)
        if not info.min <= fill <= info.max:
            return 0
        return da.dtype.type(fill)
    return da.dtype.type(fill)


def _with_axes(cov: Coverage, new_axes: dict[str, Any]) -> Coverage:
    if not new_axes:
        return cov
    return replace(cov, axes=tuple(new_axes.get(a.label, a) for a in cov.axes), pyramid=(), tile_shape=None)


def _assign_coords(ds: xr.Dataset, cov: Coverage, labels: list[str]) -> xr.Dataset:
    from petacube.datacube import axis_coordinates

    coords = {}
    for label in labels:
        if label in ds.dims:
            coords[label] = axis_coordinates(cov, cov.axis(label))
    return ds.assign_coords(coords) if coords else ds


def _short(text: str, n: int = 60) -> str:
    text = str(text)
    return text if len(text) <= n else text[: n - 3] + "..."


__all__ = ["flip", "sort", "extend", "scale", "crs_transform", "clip", "RESAMPLING"]
