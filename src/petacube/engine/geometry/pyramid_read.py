"""Reading a stored coverage's pyramid level instead of its full resolution.

``scale`` (any method) and ``crsTransform`` to a coarser grid need no more source cells
than they produce: they read the coarsest pyramid level that still has at least as many
cells over the source's extent as the target asks for on every resampled axis, and
resample from it (a 256×256 overview of a 100 000² coverage reads a few hundred cells a
side, not 10^10). Level cells are block means of the level-0 cells (see
`petacube.storage.pyramid`); level ``k`` cell ``i`` covers level-0 cells ``i·f ..
(i+1)·f - 1``.
"""
from __future__ import annotations

from dataclasses import replace

from petacube.engine import ir
from petacube.engine.nulls import set_nulls
from petacube.engine.values import CoverageValue


def is_stored_read(e: ir.Expr) -> bool:
    """``e`` reads a stored coverage directly (a band and/or a subset of it, nothing computed)."""
    return _stored_parts(e) is not None


def _stored_parts(e: ir.Expr):
    """(coverage reference, subset axes, band or None) of a direct stored read, else None."""
    band, axes = None, ()
    if isinstance(e, ir.Field):
        band, e = e.name, e.source
    if isinstance(e, ir.Subset):
        axes, e = e.axes, e.source
    if isinstance(e, ir.Field) and band is None:
        band, e = e.name, e.source
    return (e, axes, band) if isinstance(e, ir.CoverageRef) else None


def planned(ev, e: ir.Expr) -> CoverageValue | None:
    """A stored read's region and bands, without planning its tile reads (so the server's read
    guard sees only the pyramid level actually read); None when ``e`` is not a stored read of a
    coverage with pyramid levels.
    Its data holds empty placeholders: use it for the domain and band names only."""
    import numpy as np
    import xarray as xr

    from petacube.engine.band_pruning import stored_band
    from petacube.engine.subsets import region_of

    parts = _stored_parts(e)
    if parts is None:
        return None
    ref, axes, band = parts
    cov = ev.cube.describe(ref.name)
    if not cov.pyramid or cov.insitu:  # no level to choose: the caller reads level 0 straight away
        return None
    region = region_of(ev, cov, axes) if axes else ev.cube.region(cov)
    names = [stored_band(cov, band)] if band is not None else [b.name for b in cov.bands]
    placeholder = xr.Dataset({n: xr.DataArray(np.zeros(0, dtype=cov.band(n).dtype)) for n in names})
    return CoverageValue(placeholder, region.coverage, region.sliced)


def pick_level(source: ir.Expr, value: CoverageValue, needed: dict[str, float]) -> tuple[int, tuple[int, ...]] | None:
    """The coarsest level with at least ``needed[label]`` cells along each named axis of
    the value's region (other axes must be unscaled at that level), or None for level 0."""
    cov = value.coverage
    if not cov.pyramid or cov.insitu or not is_stored_read(source):
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
            n_dst = needed.get(axis.label, axis.size)
            if axis.irregular or axis.label in value.sliced or axis.size / f < n_dst:
                ok = False
                break
        cells = 1
        for f in factors:
            cells *= int(f)
        if ok and cells > best_cells:
            best, best_cells = (k, tuple(int(f) for f in factors)), cells
    return best


def level_axes(value: CoverageValue, factors: tuple[int, ...]) -> list:
    """The value's axes on a level's grid: the level cells holding its region's cells."""
    out = []
    for axis, f in zip(value.coverage.axes, factors):
        if f == 1:
            out.append(axis)
            continue
        off, step = axis.storage_offset, abs(axis.resolution)
        a0, a1 = off // f, (off + axis.size - 1) // f
        size = a1 - a0 + 1
        if axis.resolution > 0 or axis.points or axis.is_index:
            lower = axis.lower - off * step + a0 * f * step
        else:
            lower = axis.upper + off * step - a0 * f * step - size * f * step
        out.append(replace(axis, lower=lower, resolution=axis.resolution * f, size=size, storage_offset=a0))
    return out


def read_level(ev, value: CoverageValue, level: int, factors: tuple[int, ...]) -> CoverageValue:
    """The value's region read lazily from pyramid ``level`` (its bands, nulls and slices)."""
    from petacube.datacube import GridRegion

    cov = replace(value.coverage, axes=tuple(level_axes(value, factors)))
    ds = ev.cube.lazy(GridRegion(cov, (), value.sliced), value.band_names, level=level)
    for name in ds.data_vars:
        set_nulls(ds[name], value.coverage.band(name).nil_values)
    return CoverageValue(ds, cov, value.sliced)
