"""crsTransform: reprojection of the horizontal plane with rasterio (see package docstring)."""
from __future__ import annotations

import math
from dataclasses import replace

from petacube.engine import ir
from petacube.engine.geometry.common import (
    _check_cells,
    _float,
    _horizontal,
    _horizontal_component,
    _positive,
    _rasterio_crs,
    _resampling,
    _source,
    _warp,
)
from petacube.engine.geometry.pyramid_read import pick_level, planned, read_level
from petacube.engine.values import CoverageValue
from petacube.errors import (
    InvalidAxisLabel,
    InvalidParameterValue,
    PetacubeError,
    WcpsError,
)
from petacube.model import Crs, RegularAxis


# ---- crsTransform -------------------------------------------------------------------------
def crs_transform(ev, e: ir.CrsTransform) -> CoverageValue:
    from rasterio.warp import calculate_default_transform, transform_bounds

    # a stored read is only described first (see scale): full resolution is planned only
    # when no pyramid level serves the target grid
    value = planned(ev, e.source) or _source(ev, e.source, "crsTransform")
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
    source, sy, sx = value, y, x
    picked = pick_level(e.source, value, _cells_needed(src_crs, dst_crs, x, y, xres, yres))
    if picked is not None:  # a coarser target grid: resample from the coarsest level with enough cells
        source = read_level(ev, value, *picked)
        sy, sx = source.coverage.axis(y.label), source.coverage.axis(x.label)
    else:
        source = _source(ev, e.source, "crsTransform")
    ds = _warp(source, sy, sx, new_y, new_x, src_crs, dst_crs, method)
    return CoverageValue(ds, new_cov, value.sliced)


def _cells_needed(src_crs, dst_crs, x, y, xres: float, yres: float) -> dict[str, float]:
    """Source cells per horizontal axis that keep the target's cell density: the source
    extent measured in target cells (a level with fewer cells would be coarser than the
    target grid)."""
    from rasterio.warp import transform_bounds

    try:
        dl, db, dr, dt = transform_bounds(src_crs, dst_crs, x.lower, y.lower, x.upper, y.upper, densify_pts=21)
    except Exception:  # noqa: BLE001 - no estimate: read full resolution
        return {x.label: float(x.size), y.label: float(y.size)}
    return {x.label: abs(dr - dl) / xres, y.label: abs(dt - db) / yres}


