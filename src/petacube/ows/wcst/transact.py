"""WCS-T operations on a `Datacube`: insert, update (merge, grow, new dates), delete.

Writing goes through `LocalSink` (the importer's sink): tiles in one tile-store commit,
then the coverage description and slice record in one catalog transaction, so a failed
request leaves at most unreferenced tiles and never a half-described coverage.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import xarray as xr

from petacube.datacube import coordinate_number
from petacube.errors import (
    CoverageExists,
    InvalidParameterValue,
    InvalidSubsetting,
    MissingParameterValue,
    NoSuchCoverage,
    PetacubeError,
    SourceFileError,
)
from petacube.ingest.local_sink import LocalSink
from petacube.ingest.plan import Placement, PlannedSlice, grid_window, union_extent
from petacube.model import Band, Coverage, Crs, IrregularAxis, RegularAxis
from petacube.ows.exceptions import OperationNotSupported

_ID = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")
_SUBSET = re.compile(r"^\s*([^\s(]+)\s*\(\s*(.*?)\s*\)\s*$")


# ---- subsets -----------------------------------------------------------------------------

def parse_subsets(values: list[str]) -> dict[str, tuple[str, str | None]]:
    """``subset=ansi("2021-05-01")`` / ``subset=E(500000,500100)`` → {label: (low, high|None)}."""
    out: dict[str, tuple[str, str | None]] = {}
    for text in values:
        m = _SUBSET.match(text)
        if not m:
            raise InvalidSubsetting(f"subset={text}: write label(value) or label(low,high)", locator="subset")
        label, inner = m.group(1), m.group(2)
        if "," in inner:
            lo, hi = (p.strip().strip('"\'') for p in inner.split(",", 1))
        else:
            lo, hi = inner.strip().strip('"\''), None
        if not lo:
            raise InvalidSubsetting(f"subset={text}: no value", locator="subset")
        if label in out:
            raise InvalidSubsetting(f"subset: axis {label} is given twice", locator="subset")
        out[label] = (lo, hi)
    return out


# ---- the input as coverage + arrays ---------------------------------------------------------

class Input:
    """The decoded input: axes (positioned), bands with their null values, arrays in axis order."""

    def __init__(self, coverage: Coverage, arrays: dict[str, np.ndarray]):
        self.coverage = coverage
        self.arrays = arrays

    @property
    def shape(self) -> dict[str, int]:
        return {a.label: a.size for a in self.coverage.axes}


def input_of(ds: xr.Dataset, name: str) -> Input:
    from petacube.engine.values import coverage_from_dataset

    try:
        value = coverage_from_dataset(ds, name)
    except PetacubeError as exc:
        raise InvalidParameterValue(f"the input coverage: {exc.message}") from None
    except ValueError as exc:
        raise InvalidParameterValue(f"the input coverage has unusable coordinates: {exc}") from None
    cov = value.coverage
    arrays = {b.name: np.asarray(ds[b.name].transpose(*cov.dims).values) for b in cov.bands}
    return Input(cov, arrays)


def _number(cov: Coverage, label: str, text: str) -> float:
    return coordinate_number(cov, cov.axis(label), text)


def position(inp: Input, target: Coverage, subsets: dict[str, tuple[str, str | None]]) -> Input:
    """Put the input where ``subsets`` say (and add axes the input lacks), in ``target``'s axis
    order and direction: a slice on an axis the input lacks adds it with that coordinate; a
    trim on a regular axis moves the input's lower edge there."""
    src = inp.coverage
    axes = []
    arrays = dict(inp.arrays)
    have = list(src.dims)
    for label in subsets:
        target.axis(label)  # InvalidAxisLabel naming the coverage's axes
    for taxis in target.axes:
        label = taxis.label
        sub = subsets.get(label)
        if label not in have:
            if sub is None or sub[1] is not None:
                raise MissingParameterValue(
                    f"the input has no axis {label}; say where it goes with subset={label}(<coordinate>)",
                    locator="subset")
            value = _number(target, label, sub[0])
            if isinstance(taxis, IrregularAxis):
                axes.append(replace(taxis, coefficients=(value,), slots=()))
            else:
                lower = value
                if not taxis.points and not taxis.is_index:
                    # a slice names a point inside the cell: snap to the cell holding it
                    k = np.floor((value - taxis.origin) / taxis.resolution)
                    a, b = taxis.origin + k * taxis.resolution, taxis.origin + (k + 1) * taxis.resolution
                    lower = min(a, b)
                axes.append(replace(taxis, lower=lower, size=1, storage_offset=0))
            arrays = {k: np.expand_dims(v, 0) for k, v in arrays.items()}
            have.insert(0, label)
            continue
        axis = src.axis(label)
        if src.crs.component_of(label).identifier.split("?")[0] != target.crs.component_of(label).identifier.split("?")[0]:
            raise InvalidParameterValue(
                f"axis {label}: the input's CRS {src.crs.component_of(label).identifier} is not the coverage's "
                f"{target.crs.component_of(label).identifier}; reproject the input first")
        if sub is not None:
            lo = _number(target, label, sub[0])
            if isinstance(axis, IrregularAxis) or isinstance(taxis, IrregularAxis):
                if axis.size != 1:
                    raise InvalidSubsetting(f"subset on {label}: the input has {axis.size} coordinates there; "
                                            "only single-coordinate inputs can be placed by a subset", locator="subset")
                axis = IrregularAxis(label, taxis.crs_axis, (lo,)) if isinstance(taxis, IrregularAxis) \
                    else replace(axis, lower=lo)
            else:
                axis = replace(axis, lower=lo - (abs(axis.resolution) / 2 if sub[1] is None and not axis.points else 0))
        if isinstance(taxis, IrregularAxis) and not isinstance(axis, IrregularAxis):
            coords = tuple(float(c) for c in axis.coordinates())
            axis = IrregularAxis(label, taxis.crs_axis, coords)
        elif isinstance(taxis, RegularAxis) and isinstance(axis, IrregularAxis):
            if axis.size != 1:
                raise InvalidParameterValue(f"axis {label}: the input's coordinates are irregular but the coverage's axis is regular")
            axis = RegularAxis(label, taxis.crs_axis, axis.lower, taxis.resolution, 1, points=taxis.points)
        if isinstance(axis, RegularAxis) and isinstance(taxis, RegularAxis) and axis.size > 1 \
                and np.sign(axis.resolution) != np.sign(taxis.resolution):
            i = have.index(label)
            arrays = {k: np.flip(v, axis=i) for k, v in arrays.items()}
            axis = replace(axis, resolution=-axis.resolution)
        if isinstance(axis, RegularAxis) and axis.size == 1 and isinstance(taxis, RegularAxis):
            axis = replace(axis, resolution=taxis.resolution)
        axes.append(replace(axis, crs_axis=taxis.crs_axis))
    extra = [d for d in have if d not in target.dims]
    if extra:
        raise InvalidParameterValue(
            f"the input has axes {', '.join(extra)} that coverage {target.id} lacks (its axes: {', '.join(target.dims)})")
    order = [have.index(d) for d in target.dims]
    arrays = {k: np.transpose(v, order) for k, v in arrays.items()}
    cov = replace(src, id=target.id, crs=target.crs, axes=tuple(axes))
    return Input(cov, arrays)


def input_null_mask(inp: Input, band: Band, src_band: Band, data: np.ndarray) -> np.ndarray:
    mask = src_band.null_mask(data) | band.null_mask(data)
    if data.dtype.kind == "f":
        mask |= np.isnan(data)
    return mask


def match_bands(inp: Input, cov: Coverage) -> list[tuple[Band, Band]]:
    """(coverage band, input band) pairs: by name when all names match, else by position."""
    src = inp.coverage.bands
    names = {b.name for b in src}
    if all(b.name in names for b in cov.bands):
        return [(b, next(s for s in src if s.name == b.name)) for b in cov.bands]
    if len(src) != len(cov.bands):
        raise InvalidParameterValue(
            f"the input has {len(src)} band(s) ({', '.join(b.name for b in src)}) but coverage {cov.id} has "
            f"{len(cov.bands)} ({', '.join(b.name for b in cov.bands)})")
    return list(zip(cov.bands, src))


def _slice_of(inp: Input, label: str) -> PlannedSlice:
    placements = {}
    for a in inp.coverage.axes:
        if isinstance(a, IrregularAxis):
            placements[a.label] = Placement(coefficients=a.coefficients)
        else:
            placements[a.label] = Placement(a.lower, a.upper)
    return PlannedSlice(path=Path(label), unit=0, placements=placements, bands=(), data_dims=inp.coverage.dims,
                        shape=inp.shape)


# ---- operations ---------------------------------------------------------------------------

def insert(cube, ds: xr.Dataset, cov_id: str, *, tiling: str | None = None, dtype: str | None = None,
           subsets: dict | None = None, crs: str | None = None, source: str = "wcst:InsertCoverage") -> Coverage:
    from petacube.ingest.recipes.common import growing_tile_shape
    from petacube.storage.tiling import parse_tiling

    if not _ID.match(cov_id):
        raise InvalidParameterValue(f"coverageId={cov_id}: use letters, digits, _ . - (starting with a letter or _)",
                                    locator="coverageId")
    if cube.catalog.exists(cov_id):
        raise CoverageExists(f"coverage {cov_id} exists already; delete it first or send UpdateCoverage",
                             locator="coverageId")
    inp = input_of(ds, cov_id)
    if crs or subsets:
        target_crs = Crs.parse(crs) if crs else inp.coverage.crs
        axes = []
        for ca in target_crs.axes:
            if ca.label in inp.coverage.dims:
                axes.append(replace(inp.coverage.axis(ca.label), crs_axis=ca))
            else:
                axes.append(IrregularAxis(ca.label, ca, ()))
        extra = [d for d in inp.coverage.dims if d not in target_crs.labels]
        if extra:
            raise InvalidParameterValue(f"crs={crs}: it has no axes {', '.join(extra)} of the input", locator="crs")
        # keep the input's grid order for its own axes, new axes first
        new = [a for a in axes if a.label not in inp.coverage.dims]
        own = [replace(inp.coverage.axis(d), crs_axis=target_crs.axis(d)) for d in inp.coverage.dims]
        target = replace(inp.coverage, crs=target_crs, axes=tuple(new + own))
        inp = position(inp, target, subsets or {})
    bands = inp.coverage.bands
    if dtype:
        try:
            dt = np.dtype(dtype.strip()).name
        except TypeError:
            raise InvalidParameterValue(f"pixelDataType={dtype}: not a data type (e.g. uint8, int16, float32)",
                                        locator="pixelDataType") from None
        bands = tuple(replace(b, dtype=dt) for b in bands)
    cov = replace(inp.coverage, bands=bands, axes=tuple(
        replace(a, storage_offset=0) if isinstance(a, RegularAxis) else a for a in inp.coverage.axes))
    try:
        tiles = parse_tiling(tiling, cov) if tiling else growing_tile_shape(cov)
    except PetacubeError as exc:
        raise InvalidParameterValue(exc.message, locator="tiling") from None
    cov = replace(cov, tile_shape=tuple(int(n) for n in tiles))
    data = {}
    for b, src in zip(cov.bands, inp.coverage.bands):
        arr = inp.arrays[src.name]
        if dtype:
            mask = input_null_mask(inp, b, src, arr)
            arr = arr.astype(b.dtype)
            arr[mask] = b.fill_value
        data[b.name] = arr
    sink = LocalSink(cube, cov, None)
    return sink.commit_slice(_slice_of(inp, source), data, inp.shape, "")


def update(cube, ds: xr.Dataset, cov_id: str, *, subsets: dict | None = None,
           source: str = "wcst:UpdateCoverage") -> Coverage:
    current = cube.catalog.get(cov_id)  # NoSuchCoverage
    if current.insitu:
        raise OperationNotSupported(f"coverage {cov_id} is registered in place (files); it cannot be updated over WCS-T")
    inp = position(input_of(ds, cov_id), current, subsets or {})
    sl = _slice_of(inp, source)
    shape = inp.shape
    try:
        window = grid_window(current, sl, shape)
    except SourceFileError as exc:
        raise InvalidParameterValue(exc.message.replace(source + ": ", "the input: "), locator="subset") from None
    pairs = match_bands(inp, current)
    # existing cells under the input, where there are any
    existing_sel: list = []  # selection of the input array
    storage: list = []  # storage index of the current coverage
    for axis in current.axes:
        if isinstance(axis, IrregularAxis):
            picks = [(i, axis.find(c)) for i, c in enumerate(inp.coverage.axis(axis.label).coefficients)]
            picks = [(i, axis.slots[j]) for i, j in picks if j is not None]
            existing_sel.append([i for i, _ in picks])
            storage.append([s for _, s in picks])
            continue
        a, b = window[axis.label]
        lo, hi = max(a, 0), min(b, axis.size)
        existing_sel.append(slice(lo - a, max(hi - a, lo - a)))
        storage.append(slice(axis.storage_offset + lo, axis.storage_offset + max(hi, lo)))
    overlap = all((len(s) if isinstance(s, list) else s.stop - s.start) > 0 for s in storage)
    data = {}
    for band, src in pairs:
        arr = inp.arrays[src.name]
        mask = input_null_mask(inp, band, src, arr)
        out = np.where(mask, band.fill_value, arr).astype(band.dtype) if mask.any() else arr.astype(band.dtype)
        if overlap and mask.any():
            old = cube.store.read(current, band.name, tuple(storage))
            sel = _open_mesh(existing_sel)
            part = out[sel]
            part[mask[sel]] = old[mask[sel]]
            out[sel] = part
        data[band.name] = out
    planned = union_extent(current, [sl], [shape])
    sink = LocalSink(cube, planned, current)
    return sink.commit_slice(sl, data, shape, "")


def _open_mesh(sel: list) -> tuple:
    """Selection usable for reading and assigning: index lists become an open mesh."""
    if not any(isinstance(s, list) for s in sel):
        return tuple(sel)
    idx = [np.arange(s.start, s.stop) if isinstance(s, slice) else np.asarray(s, dtype=int) for s in sel]
    return np.ix_(*idx)


def delete(cube, ids: list[str]) -> None:
    if not ids:
        raise MissingParameterValue("coverageId=... is missing", locator="coverageId")
    missing = [i for i in ids if not cube.catalog.exists(i)]
    if missing:
        raise NoSuchCoverage(f"no coverage {', '.join(missing)}; nothing was deleted", locator=missing[0])
    for i in ids:
        cube.delete(i)
