"""Helpers shared by the geometric operations."""
from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import numpy as np
import xarray as xr

from petacube.engine import ir
from petacube.engine.nulls import nulls_of
from petacube.engine.values import CoverageValue, is_coverage, scalar_of
from petacube.errors import (
    InvalidCrs,
    InvalidParameterValue,
    ResultTooLarge,
    WcpsError,
)
from petacube.model import Coverage, Crs, CrsComponent

_EPS = 1e-9
_MAX_AXIS_CELLS = 100_000_000  # per axis; the result size limit checks the whole result later

RESAMPLING = {
    "near": "nearest", "nearest": "nearest", "bilinear": "bilinear", "cubic": "cubic",
    "cubicspline": "cubic_spline", "cubic_spline": "cubic_spline", "lanczos": "lanczos",
    "average": "average", "avg": "average", "mode": "mode", "max": "max", "min": "min",
    "med": "med", "median": "med", "q1": "q1", "q3": "q3", "sum": "sum", "rms": "rms",
}




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
