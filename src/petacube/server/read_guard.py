"""Limits and fine-grained read rules checked on a request's read plan, before any tile is read.

Every front end (WCPS, WCS GetCoverage, WMS GetMap) reaches the tiles only through
``Datacube.lazy``, which builds the lazy read of one region (nothing is read until the
engine computes). `GuardedCube` wraps the request's Datacube and checks each region as it
is planned: cells read against the server limit and the user's rules, the allowed area,
time range and resolution, and the daily quota of bytes read. A refusal raises
`AccessDenied` (403) or `RequestTooLarge` (413) naming the rule and how to get under it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from petacube.catalog.rules import AccessRule
from petacube.ows.exceptions import AccessDenied, RequestTooLarge


class ReadGuard:
    """The checks of one request; counts what it lets through (for quotas and the access log)."""

    def __init__(self, rules_for: Callable[[str], list[AccessRule]], *, max_cells: int | None = None,
                 used_today: Callable[[], int] | None = None):
        self.rules_for = rules_for
        self.max_cells = max_cells
        self.used_today = used_today
        self.cells = 0
        self.bytes = 0
        self.metered = False  # a daily quota applied: the bytes read are recorded

    def check(self, region, bands: Sequence[str] | None, level: int) -> None:
        cov = region.coverage
        names = list(bands) if bands else [b.name for b in cov.bands]
        cells_per_band = int(np.prod([a.size for a in cov.axes], dtype=np.int64))
        cells = cells_per_band * len(names)
        nbytes = cells_per_band * sum(np.dtype(cov.band(n).dtype).itemsize for n in names)
        rules = self.rules_for(cov.id)
        for rule in rules:
            _check_rule(rule, cov)
        limit = min([r.max_cells for r in rules if r.max_cells] + ([self.max_cells] if self.max_cells else []),
                    default=None)
        if limit is not None and self.cells + cells > limit:
            raise RequestTooLarge(
                f"the request reads {self.cells + cells:,} cells of {cov.id}; at most {limit:,} may be read per "
                "request: subset a smaller area or time range, or scale down")
        quotas = [r.daily_bytes for r in rules if r.daily_bytes]
        if quotas and self.used_today is not None:
            self.metered = True
            quota, used = min(quotas), self.used_today()
            if used + self.bytes + nbytes > quota:
                raise AccessDenied(
                    f"daily quota: {used:,} of {quota:,} bytes already read today (UTC) and this request would "
                    f"read {self.bytes + nbytes:,} more from {cov.id}; try a smaller request or wait until "
                    "tomorrow", locator=cov.id)
        self.cells += cells
        self.bytes += nbytes


class GuardedCube:
    """A Datacube whose planned reads pass `ReadGuard.check` first; everything else is the cube's."""

    def __init__(self, cube, guard: ReadGuard):
        self._cube = cube
        self.guard = guard

    def __getattr__(self, name):
        return getattr(self._cube, name)

    def restricted(self, coverage_ids) -> bool:
        """Whether read rules apply to the caller for any of ``coverage_ids``: then answers must
        not come from (or go to) a cache shared with other callers."""
        return any(self.guard.rules_for(c) for c in coverage_ids)

    def lazy(self, region, bands=None, level: int = 0, **options):
        self.guard.check(region, bands, level)
        return self._cube.lazy(region, bands, level=level, **options)

    def read_array(self, region, band: str, level: int = 0, **options):
        self.guard.check(region, [band], level)
        return self._cube.read_array(region, band, level=level, **options)

    def read(self, coverage_id, subsets=None, bands=None):
        cov = self._cube.describe(coverage_id)
        self.guard.check(self._cube.region(cov, subsets), bands, 0)
        return self._cube.read(coverage_id, subsets, bands)


# ---- one rule against one planned region ------------------------------------------------------

def _check_rule(rule: AccessRule, cov) -> None:
    horizontal = [a for a in cov.axes if a.crs_axis.kind in ("x", "y")]
    if rule.finest_resolution is not None or rule.coarsest_resolution is not None:
        for axis in horizontal:
            res = abs(axis.resolution)
            if rule.finest_resolution is not None and res < rule.finest_resolution * (1 - 1e-9):
                raise AccessDenied(
                    f"{cov.id} may be read at {rule.finest_resolution:g} {axis.crs_axis.unit} per cell or coarser; "
                    f"this request reads {axis.label} at {res:g}: scale it down (e.g. scalefactor / WCPS scale)",
                    locator=cov.id)
            if rule.coarsest_resolution is not None and res > rule.coarsest_resolution * (1 + 1e-9):
                raise AccessDenied(
                    f"{cov.id} may be read at {rule.coarsest_resolution:g} {axis.crs_axis.unit} per cell or finer; "
                    f"this request reads {axis.label} at {res:g}", locator=cov.id)
    if rule.time_min or rule.time_max:
        _check_time(rule, cov)
    if rule.area_wkt:
        _check_area(rule, cov, horizontal)


def _check_time(rule: AccessRule, cov) -> None:
    from petacube.model.crs import datetime_to_number, number_to_datetime64, time_crs_of

    for axis in cov.axes:
        if not axis.crs_axis.is_time:
            continue
        tcrs = time_crs_of(axis.crs_axis, cov.crs)
        coords = np.asarray(axis.coordinates(), dtype="float64")
        lo, hi = float(coords.min()), float(coords.max())
        first, last = (str(v)[:19] for v in number_to_datetime64([lo, hi], tcrs))
        if rule.time_min and lo < datetime_to_number(rule.time_min, tcrs) - 1e-9:
            raise AccessDenied(f"{cov.id} may be read from {rule.time_min} on; this request reads {axis.label} "
                               f"from {first}: subset the time axis", locator=cov.id)
        if rule.time_max and hi > datetime_to_number(rule.time_max, tcrs) + 1e-9:
            raise AccessDenied(f"{cov.id} may be read up to {rule.time_max}; this request reads {axis.label} "
                               f"up to {last}: subset the time axis", locator=cov.id)


def _check_area(rule: AccessRule, cov, horizontal) -> None:
    import pyproj
    import shapely
    from shapely.geometry import box

    target = cov.crs.horizontal if len(horizontal) == 2 else None
    if target is None:
        raise AccessDenied(f"{cov.id} is restricted to an area but has no geographic axes to check it against",
                           locator=cov.id)
    env = {a.crs_axis.kind: (min(a.lower, a.upper), max(a.lower, a.upper)) for a in horizontal}
    footprint = box(env["x"][0], env["y"][0], env["x"][1], env["y"][1])
    area = shapely.from_wkt(rule.area_wkt)
    source = pyproj.CRS.from_user_input(rule.area_crs or "EPSG:4326")
    if not source.equals(target):
        to_cov = pyproj.Transformer.from_crs(source, target, always_xy=True)
        area = shapely.transform(shapely.segmentize(area, _segment(area)), lambda xy: np.column_stack(
            to_cov.transform(xy[:, 0], xy[:, 1])))
    # a cell's edge on the boundary counts as inside (rounding of transformed vertices)
    tolerance = 1e-6 * max(footprint.length, 1.0)
    if not footprint.difference(area.buffer(tolerance)).is_empty:
        raise AccessDenied(
            f"{cov.id} may only be read inside the allowed area; this request reads x {env['x'][0]:g}..{env['x'][1]:g}, "
            f"y {env['y'][0]:g}..{env['y'][1]:g} ({cov.crs.identifier}), "
            "which reaches outside it: subset to the allowed area", locator=cov.id)


def _segment(geom) -> float:
    minx, miny, maxx, maxy = geom.bounds
    return max(maxx - minx, maxy - miny, 1e-9) / 64

