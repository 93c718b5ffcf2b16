"""Subsets of coverage values: bounds evaluated against the coverage (geo, grid/CRS:1, at
an iterator, or written in another CRS) and the region they select.

A subset of a stored coverage becomes the region of its tile read (`Datacube.region`, the
rasdaman trim/slice arithmetic of `petacube.model`); a subset of a computed value selects
the same cells from its data.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pyproj

from petacube.engine import ir
from petacube.engine.values import CoverageValue
from petacube.errors import InvalidSubsetting, WcpsError
from petacube.model import Crs


def region_of(ev, cov, axes: tuple[ir.AxisSubset, ...], sliced=frozenset()):
    """The grid region of ``cov`` that ``axes`` select."""
    geo, grid = subset_bounds(ev, cov, sliced, axes)
    return apply_grid_subsets(ev.cube.region(cov, geo), grid)


def subset_value(ev, value: CoverageValue, axes: tuple[ir.AxisSubset, ...]) -> CoverageValue:
    """The cells of an evaluated value that ``axes`` select."""
    region = region_of(ev, value.coverage, axes, value.sliced)
    index = {}
    for axis, (a, b) in zip(value.coverage.axes, region.grid):
        if axis.label in value.sliced:
            continue
        index[axis.label] = a if axis.label in region.sliced else slice(a, b + 1)
    return CoverageValue(value.data.isel(index), region.coverage, value.sliced | region.sliced)


def subset_bounds(ev, cov, sliced, axes: tuple[ir.AxisSubset, ...]):
    axes = reproject_subsets(ev, cov, axes)
    geo: dict[str, Any] = {}
    grid: dict[str, tuple[int, int, bool]] = {}
    for s in axes:
        if s.axis in sliced:
            raise InvalidSubsetting(f"axis {s.axis} was already sliced away; it cannot be subset again")
        axis = cov.axis(s.axis)  # InvalidAxisLabel with the axes listed
        crs = (s.crs or "").upper()
        if crs == "CRS:1" or "INDEX" in crs or at_iterator(s):
            if s.is_slice:
                k = int(ev._bound(s.at))
                grid[s.axis] = (k, k, True)
            else:
                lo, hi = ev._bound(s.lo), ev._bound(s.hi)
                grid[s.axis] = (0 if lo is None else int(lo), axis.size - 1 if hi is None else int(hi), False)
            continue
        if s.is_slice:
            geo[s.axis] = ev._bound(s.at)
        else:
            lo, hi = ev._bound(s.lo), ev._bound(s.hi)
            geo[s.axis] = (axis.lower if lo is None else lo, axis.upper if hi is None else hi)
    return geo, grid


def reproject_subsets(ev, cov, axes: tuple[ir.AxisSubset, ...]) -> tuple[ir.AxisSubset, ...]:
    """Subsets of the horizontal axes written in another CRS (``E:"EPSG:4326"(..)``):
    transform their bounding box into the coverage's CRS (densified edges, so a
    lon/lat box becomes the projected box that contains it)."""
    foreign = [s for s in axes if s.crs and (s.crs or "").upper() != "CRS:1" and "INDEX" not in s.crs.upper()
               and s.crs.upper().replace("EPSG/0/", "EPSG:") not in _crs_names(cov, s.axis)]
    if not foreign:
        return axes
    kinds = {s.axis: cov.axis(s.axis).crs_axis.kind for s in foreign}
    by_kind = {kinds[s.axis]: s for s in foreign}
    if set(by_kind) != {"x", "y"} or len(foreign) != 2 or foreign[0].crs != foreign[1].crs:
        raise WcpsError(
            "a subset in another CRS needs both horizontal axes in that same CRS, e.g. "
            'E:"EPSG:4326"(12.1:12.3), N:"EPSG:4326"(41.9:42.0)'
        )
    src = Crs.parse(foreign[0].crs).horizontal
    dst = cov.crs.horizontal
    if src is None or dst is None:
        raise WcpsError(f"subset CRS {foreign[0].crs}: both it and the coverage need a horizontal CRS")
    sx, sy = by_kind["x"], by_kind["y"]
    if sx.is_slice != sy.is_slice:
        raise WcpsError("a subset in another CRS must slice both horizontal axes or trim both")
    transformer = pyproj.Transformer.from_crs(src, dst, always_xy=True)
    if sx.is_slice:
        x, y = transformer.transform(float(ev._bound(sx.at)), float(ev._bound(sy.at)))
        new = {sx.axis: ir.AxisSubset(sx.axis, at=ir.Scalar(x)), sy.axis: ir.AxisSubset(sy.axis, at=ir.Scalar(y))}
    else:
        bx = [ev._bound(sx.lo), ev._bound(sx.hi)]
        by = [ev._bound(sy.lo), ev._bound(sy.hi)]
        if None in bx + by:
            raise WcpsError("a subset in another CRS needs explicit bounds (no *)")
        x0, y0, x1, y1 = transformer.transform_bounds(float(bx[0]), float(by[0]), float(bx[1]), float(by[1]), densify_pts=21)
        new = {sx.axis: ir.AxisSubset(sx.axis, lo=ir.Scalar(x0), hi=ir.Scalar(x1)),
               sy.axis: ir.AxisSubset(sy.axis, lo=ir.Scalar(y0), hi=ir.Scalar(y1))}
    return tuple(new.get(s.axis, s) for s in axes)


def at_iterator(s: ir.AxisSubset) -> bool:
    """``$c[ansi($t)]`` with an iterator: the iterator is a grid coordinate."""
    return any(isinstance(b, ir.IteratorVar) for b in (s.at, s.lo, s.hi))


def _crs_names(cov, label: str) -> set[str]:
    comp = cov.crs.component_of(label)
    return {f"{comp.authority}:{comp.code}".upper(), comp.identifier.upper(), comp.uri().upper()}


def apply_grid_subsets(region, grid: dict[str, tuple[int, int, bool]]):
    """CRS:1 subsets: grid indices of the region's coverage taken directly."""
    if not grid:
        return region
    from petacube.datacube import GridRegion

    cov = region.coverage
    axes, ranges, sliced = [], list(region.grid), set(region.sliced)
    for i, axis in enumerate(cov.axes):
        if axis.label in grid:
            a, b, is_slice = grid[axis.label]
            if not (0 <= a <= b < axis.size):
                raise InvalidSubsetting(f"axis {axis.label}: grid subset {a}:{b} is outside 0:{axis.size - 1}")
            axis = axis.subset(a, b)
            ranges[i] = (ranges[i][0] + a, ranges[i][0] + b)
            if is_slice:
                sliced.add(axis.label)
        axes.append(axis)
    return GridRegion(replace(cov, axes=tuple(axes)), tuple(ranges), frozenset(sliced))
