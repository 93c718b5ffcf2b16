"""What an import will do: the coverage it builds and where each source slice goes.

Recipes turn ingredients + files into an `ImportPlan`; the importer executes it. Keeping
the plan as plain data lets `mock` print it and lets the same plan drive a local write or
(later) a WCS-T upload.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from petacube.errors import SourceFileError
from petacube.model import Coverage, IrregularAxis, RegularAxis

# A slice edge within this fraction of a pixel of the coverage grid counts as aligned:
# GeoTIFF transforms carry float noise (e.g. 0.1° written as 0.09999999999).
ALIGN_TOLERANCE = 1e-3


@dataclass(frozen=True)
class Placement:
    """Where a slice sits along one coverage axis.

    Regular axis: geo bounds ``lower``..``upper`` (outer cell edges; for point axes the
    first and last instant). Irregular axis: one coordinate per data index."""

    lower: float | None = None
    upper: float | None = None
    coefficients: tuple[float, ...] | None = None


@dataclass(frozen=True)
class BandSource:
    """How to read one coverage band from a source unit."""

    identifier: str | int  # GDAL 1-based band index or description, netCDF variable, GRIB message
    gdal_band: int | None = None  # for registration: the 1-based band number in the file


@dataclass
class PlannedSlice:
    """One source contribution (a file, or one GRIB message of it)."""

    path: Path
    unit: int
    placements: dict[str, Placement]
    bands: tuple[BandSource, ...]
    data_dims: tuple[str, ...]  # coverage labels of the array the unit returns, in its order
    shape: dict[str, int] = field(default_factory=dict)  # cells per coverage axis (1 if absent)
    flips: frozenset[str] = frozenset()  # labels whose data run opposite to the coverage grid
    metadata: dict[str, Any] = field(default_factory=dict)
    original_path: Path | None = None  # before a hook's replace_path
    slicer: str = "gdal"  # which slicer reads it: gdal, netcdf, grib

    @property
    def label(self) -> str:
        return f"{self.path}" + (f" (message {self.unit + 1})" if self.unit else "")


@dataclass
class ImportPlan:
    """The coverage to create or update and the slices to put into it."""

    coverage: Coverage  # the description; its extent is replaced by the union of the slices
    slices: list[PlannedSlice]
    skipped: list[tuple[Path, str]] = field(default_factory=list)  # (file, reason) when skip: true


def grid_window(cov: Coverage, sl: PlannedSlice, data_shape: dict[str, int]) -> dict[str, tuple[int, int]]:
    """Half-open grid index range of ``sl`` on every *regular* axis of ``cov``.

    ``data_shape`` gives the slice's cell count per label. Raises SourceFileError when the
    slice is off the coverage grid (misaligned, other resolution)."""
    out: dict[str, tuple[int, int]] = {}
    for axis in cov.axes:
        if not isinstance(axis, RegularAxis):
            continue
        p = sl.placements[axis.label]
        n = data_shape.get(axis.label, 1)
        step = abs(axis.resolution)
        if axis.points:
            start = (p.lower - axis.lower) / step
        elif axis.resolution > 0:
            start = (p.lower - axis.lower) / step
        else:
            start = (axis.upper - p.upper) / step
        rounded = round(start)
        if abs(start - rounded) > ALIGN_TOLERANCE:
            raise SourceFileError(
                f"{sl.label}: on axis {axis.label} it starts at {p.lower if axis.resolution > 0 else p.upper}, "
                f"which is {abs(start - rounded):.3f} pixels off the coverage grid (origin {axis.origin}, "
                f"resolution {axis.resolution}); reproject or align it first"
            )
        if not axis.points:
            span = (p.upper - p.lower) / step
            if abs(span - n) > max(ALIGN_TOLERANCE * n, ALIGN_TOLERANCE):
                raise SourceFileError(
                    f"{sl.label}: along {axis.label} it spans {p.upper - p.lower:g} with {n} cells, i.e. "
                    f"resolution {(p.upper - p.lower) / n:g}; the coverage's resolution is {step:g}"
                )
        out[axis.label] = (rounded, rounded + n)
    return out


def union_extent(template: Coverage, slices: list[PlannedSlice], shapes: list[dict[str, int]]) -> Coverage:
    """The template with every axis extended to cover all ``slices``."""
    cov = template
    for axis in template.axes:
        if isinstance(axis, IrregularAxis):
            coeffs = sorted({c for sl in slices for c in (sl.placements[axis.label].coefficients or ())})
            new = axis
            for c in coeffs:
                new, _ = new.with_coefficient(c)
            cov = cov.with_axis(new)
            continue
        los, his = [], []
        for sl, shape in zip(slices, shapes):
            p = sl.placements[axis.label]
            los.append(p.lower)
            if axis.points:
                n = shape.get(axis.label, 1)
                his.append(p.lower + (n - 1) * abs(axis.resolution))
            else:
                his.append(p.upper)
        if not los:
            continue
        lo, hi = min(los), max(his)
        if axis.size:  # existing coverage: keep its extent too
            lo, hi = min(lo, axis.lower), max(hi, axis.upper)
        step = abs(axis.resolution)
        size = round((hi - lo) / step) + (1 if axis.points else 0)
        cov = cov.with_axis(replace(axis, lower=lo, size=max(size, 1)))
    return cov


def ceil_div(a: int, b: int) -> int:
    return -(-a // b) if b else a


def snap(value: float, origin: float, step: float) -> float:
    """``value`` moved onto the grid through ``origin`` with spacing ``step`` when within tolerance."""
    k = (value - origin) / step
    if abs(k - round(k)) <= ALIGN_TOLERANCE:
        return origin + round(k) * step
    return value


def isclose(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
