"""clip: polygons (cells outside become null) and linestrings (cells along the line)."""
from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import xarray as xr

from petacube.engine import ir
from petacube.engine.geometry.common import (
    _EPS,
    _assign_coords,
    _fill_value,
    _horizontal,
    _horizontal_component,
    _short,
    _source,
    _transform,
    _with_axes,
)
from petacube.engine.values import CoverageValue
from petacube.errors import (
    InvalidCrs,
    InvalidParameterValue,
    WcpsError,
)
from petacube.model import Band, Crs, CrsAxis, CrsComponent, RegularAxis


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


