"""The Python entry point: ``petacube.open()`` gives a `Datacube` whose coverages read into
``xarray.Dataset`` objects with coordinates and CRS.

This joins the catalog (what a coverage is) and the tile store (its pixels); the engine
and the OGC front ends read through it.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from petacube.catalog import Catalog
from petacube.config import Settings, load_settings
from petacube.errors import InvalidParameterValue
from petacube.model import Coverage, IrregularAxis, datetime_to_number, number_to_datetime64
from petacube.model.crs import time_crs_of
from petacube.storage import FileReference, TileStore, read_registered
from petacube.storage.chunk_reader import missing_as_constant

Subset = Any  # a coordinate (slice) or a (low, high) pair (trim); times as ISO strings or datetimes


@dataclass(frozen=True)
class GridRegion:
    """A region of a coverage in grid indices, and the same in storage indices."""

    coverage: Coverage  # the coverage restricted to the region (axes subset, sliced axes kept)
    grid: tuple[tuple[int, int], ...]  # inclusive grid index ranges, grid order
    sliced: frozenset[str]  # labels addressed by a slice (dropped from the result)

    def storage_index(self) -> tuple[slice | list[int], ...]:
        """Storage selection per axis: slices for regular axes, slot lists for irregular ones."""
        out: list[slice | list[int]] = []
        for axis in self.coverage.axes:
            if isinstance(axis, IrregularAxis):
                out.append(list(axis.slots))
            else:
                out.append(slice(axis.storage_offset, axis.storage_offset + axis.size))
        return tuple(out)


class Datacube:
    """Coverages in one petacube home (catalog + tile store)."""

    def __init__(self, settings: Settings | None = None):
        self.settings = settings or load_settings()
        self.settings.home.mkdir(parents=True, exist_ok=True)
        self.catalog = Catalog(self.settings.catalog_url)
        self.store = TileStore(self.settings.tile_path, threads=self.settings.threads)
        self._descriptions: dict[str, tuple[Coverage, tuple[int, str]]] = {}

    def close(self) -> None:
        self.catalog.close()

    def __enter__(self) -> "Datacube":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ---- catalog -----------------------------------------------------------------
    def coverage_ids(self) -> list[str]:
        return self.catalog.coverage_ids()

    def describe(self, coverage_id: str) -> Coverage:
        """The coverage's description, cached per catalog version: a server answering many
        requests on a coverage with a long time axis loads its coefficients once per change."""
        stamp = self.catalog.stamp(coverage_id)  # NoSuchCoverage if unknown
        cached = self._descriptions.get(coverage_id)
        if cached is not None and cached[1] == stamp:
            return cached[0]
        cov = self.catalog.get(coverage_id)
        # keyed by the stamp read *before* loading: a commit landing in between leaves an
        # older key, so the next call reloads instead of keeping a stale description
        self._descriptions[coverage_id] = (cov, stamp)
        return cov

    def __getitem__(self, coverage_id: str) -> "CoverageReader":
        return CoverageReader(self, self.describe(coverage_id))

    def __contains__(self, coverage_id: str) -> bool:
        return self.catalog.exists(coverage_id)

    def delete(self, coverage_id: str) -> None:
        """Remove a coverage: metadata first (it disappears at once), then its tiles."""
        self.catalog.get(coverage_id)  # NoSuchCoverage if unknown
        self.catalog.delete(coverage_id)
        if self.store.has_coverage(coverage_id):
            with self.store.transaction(f"delete {coverage_id}") as tx:
                tx.delete_coverage(coverage_id)

    def summary(self, coverage_id: str) -> dict:
        """What `petacube describe` shows: axes, extent, bands, slices, size on disk."""
        cov = self.catalog.get(coverage_id)
        axes = []
        for a in cov.axes:
            lo, hi = a.lower, a.upper
            if a.is_time and a.size:
                t = axis_coordinates(cov, a)
                lo, hi = str(t[0])[:19], str(t[-1])[:19]
            detail = (
                f"{a.size} coordinates" if a.irregular else f"resolution {a.resolution:g}"
            )
            kind = "irregular" if a.irregular else "regular"
            axes.append({"label": a.label, "kind": kind, "lower": lo, "upper": hi, "detail": detail, "size": a.size})
        counts = self.catalog.size_summary(coverage_id)
        return {
            "id": cov.id,
            "crs": cov.crs.identifier,
            "crs_uri": cov.crs.uri(),
            "storage": "registered files (in situ)" if cov.insitu else "tiles",
            "tile_shape": "×".join(map(str, cov.tile_shape)) if cov.tile_shape else "-",
            "size_on_disk": self.store.size_on_disk(cov.id) if self.store.has_coverage(cov.id) else 0,
            "slices": counts.get("slices", 0),
            "files": counts.get("imported_files", counts.get("files", 0)),
            "axes": axes,
            "bands": [
                {"name": b.name, "dtype": b.dtype, "nulls": ", ".join(map(str, b.nil_values)), "uom": b.uom, "description": b.description}
                for b in cov.bands
            ],
            "pyramid": list(cov.pyramid),
            "metadata": cov.metadata,
        }

    # ---- reading -------------------------------------------------------------------
    def region(self, cov: Coverage, subsets: Mapping[str, Subset] | None = None) -> GridRegion:
        """Translate geo subsets (rasdaman arithmetic) into a grid region."""
        subsets = dict(subsets or {})
        axes, grid, sliced = [], [], set()
        for axis in cov.axes:
            if axis.label not in subsets:
                axes.append(axis)
                grid.append((0, axis.size - 1))
                continue
            value = subsets.pop(axis.label)
            if isinstance(value, (tuple, list)):
                lo, hi = (coordinate_number(cov, axis, v) for v in value)
                a, b = axis.trim_indices(lo, hi)
            else:
                a = b = axis.slice_index(coordinate_number(cov, axis, value))
                sliced.add(axis.label)
            axes.append(axis.subset(a, b))
            grid.append((a, b))
        if subsets:
            cov.axis(next(iter(subsets)))  # raises InvalidAxisLabel naming the axes
        from dataclasses import replace

        return GridRegion(replace(cov, axes=tuple(axes)), tuple(grid), frozenset(sliced))

    def read_array(self, region: GridRegion, band: str, level: int = 0) -> np.ndarray:
        """Pixels of one band in ``region`` (grid order, sliced axes kept with length 1)."""
        cov = region.coverage
        band_obj = cov.band(band)
        if cov.insitu:
            return self._read_registered(region, band_obj.name)
        return self.store.read(cov, band_obj.name, region.storage_index(), level=level)

    def _read_registered(self, region: GridRegion, band: str) -> np.ndarray:
        """Pixels of a registered coverage: each requested slot of the irregular axes is
        one window over the catalog's file references (read through rasterio)."""
        cov = region.coverage
        pos = [b.name for b in cov.bands].index(band)
        fill, dtype = cov.bands[pos].fill_value, cov.bands[pos].dtype
        index = region.storage_index()
        shape = tuple(len(ix) if isinstance(ix, list) else ix.stop - ix.start for ix in index)
        out = np.full(shape, fill, dtype=dtype)
        irregular = [i for i, ix in enumerate(index) if isinstance(ix, list)]
        for picks in itertools.product(*(enumerate(index[i]) for i in irregular)):
            window, target = list(index), [slice(None)] * len(index)
            for i, (k, slot) in zip(irregular, picks):
                window[i] = slice(slot, slot + 1)
                target[i] = slice(k, k + 1)
            half_open = tuple((w.start, w.stop) for w in window)
            refs = [
                FileReference(r.path, r.band_indices[pos], tuple(lo for lo, _ in r.region),
                              tuple(hi - lo for lo, hi in r.region), r.subdataset)
                for r in self.catalog.slices(cov.id, region=half_open, registered=True)
            ]
            out[tuple(target)] = read_registered(refs, tuple(window), dtype, fill)
        return out

    def lazy(self, region: GridRegion, bands: Sequence[str] | None = None, level: int = 0,
             missing_as_constant: bool = True) -> xr.Dataset:
        """A region as a dask-backed Dataset chunked like the tiles: nothing is read until
        computed, and then only the tiles the computation needs. With ``level`` > 0 the
        region's axes are in the storage indices of that pyramid level. A block without any
        stored tile is a read-only broadcast of the fill value (dask tasks must not write
        into their inputs; computed results are assembled into new arrays), so sparse
        coverages cost only their stored tiles; ``missing_as_constant=False`` fills it."""
        import dask.array as da

        cov = region.coverage
        chunks = task_chunks(cov)
        arrays = {}
        for name in bands or [b.name for b in cov.bands]:
            band = cov.band(name).name
            lazy = _LazyBand(self, region, band, level, missing_as_constant)
            where = region.grid if not level else (level, tuple(a.slots if a.irregular else (a.storage_offset, a.size) for a in cov.axes))
            token = f"{cov.id}-{band}-{where}-{self.store.snapshot_id() if not cov.insitu else 'insitu'}"
            arrays[band] = da.from_array(lazy, chunks=chunks, asarray=True, fancy=False, name=token)
        return to_dataset(region, arrays)

    def read(
        self,
        coverage_id: str,
        subsets: Mapping[str, Subset] | None = None,
        bands: Sequence[str] | None = None,
    ) -> xr.Dataset:
        """Read a region into memory as an ``xarray.Dataset`` (one variable per band)."""
        cov = self.describe(coverage_id)
        region = self.region(cov, subsets)
        names = [cov.band(b).name for b in (bands or [b.name for b in cov.bands])]
        if cov.insitu:
            arrays = {n: self.read_array(region, n) for n in names}
        else:
            arrays = self.store.read_bands(region.coverage, names, region.storage_index())
        return to_dataset(region, arrays)


class CoverageReader:
    """One coverage of a Datacube: its description and reads of it."""

    def __init__(self, cube: Datacube, coverage: Coverage):
        self.cube = cube
        self.coverage = coverage

    def read(self, bands: Sequence[str] | None = None, **subsets: Subset) -> xr.Dataset:
        """``cube["S2"].read(E=(500000, 510000), ansi="2021-05-01")``"""
        return self.cube.read(self.coverage.id, subsets, bands)

    def to_xarray(self, bands: Sequence[str] | None = None) -> xr.Dataset:
        """The whole coverage as a lazy, dask-backed Dataset chunked by tiles."""
        return self.cube.lazy(self.cube.region(self.coverage), bands)


_CUBES: dict[str, Datacube] = {}


def _cube_for(settings: Settings) -> Datacube:
    """One Datacube per settings per process (dask workers rebuild readers from settings)."""
    key = settings.model_dump_json()
    if key not in _CUBES:
        _CUBES[key] = Datacube(settings)
    return _CUBES[key]


class _LazyBand:
    """Array-like view of one band for dask: slicing reads just those tiles. Pickles as
    its settings and region, so dask.distributed workers open the same store themselves."""

    def __init__(self, cube: Datacube, region: GridRegion, band: str, level: int = 0, constant: bool = False):
        self.cube, self.region, self.band, self.level, self.constant = cube, region, band, level, constant
        b = region.coverage.band(band)
        self.dtype = np.dtype(b.dtype)
        self.shape = region.coverage.shape
        self.ndim = len(self.shape)

    def __reduce__(self):
        return (_rebuild_band, (self.cube.settings, self.region, self.band, self.level, self.constant))

    def __getitem__(self, key) -> np.ndarray:
        from dataclasses import replace

        cov = self.region.coverage
        axes = []
        for axis, k in zip(cov.axes, key):
            start, stop, _ = k.indices(axis.size)
            axes.append(axis.subset(start, stop - 1))
        sub = GridRegion(replace(cov, axes=tuple(axes)), (), frozenset())
        if not self.constant:
            return self.cube.read_array(sub, self.band, self.level)
        with missing_as_constant():
            return self.cube.read_array(sub, self.band, self.level)


TASK_BYTES = 16 * 2**20  # pixels one dask task reads: a stack of tiles, so the reader batches its fetches


def task_chunks(cov: Coverage) -> tuple[int, ...]:
    """Dask chunks over a region: one tile in the plane, as many tiles along the other axes
    (time ...) as fit in TASK_BYTES. Few large tasks let the tile reader batch and decode
    many tiles per call instead of paying its per-call cost for every tile."""
    tiles = cov.tile_shape or tuple(1024 for _ in cov.axes)
    chunks = [max(1, min(t, n)) for t, n in zip(tiles, cov.shape)]
    itemsize = max(np.dtype(b.dtype).itemsize for b in cov.bands)
    for i, axis in enumerate(cov.axes):
        if axis.crs_axis.kind in ("x", "y"):
            continue
        plane = int(np.prod([c for j, c in enumerate(chunks) if j != i])) * itemsize
        chunks[i] = max(1, min(cov.shape[i], TASK_BYTES // max(plane, 1)))
    return tuple(chunks)


def _rebuild_band(settings: Settings, region: GridRegion, band: str, level: int = 0, constant: bool = False) -> _LazyBand:
    return _LazyBand(_cube_for(settings), region, band, level, constant)


def coordinate_number(cov: Coverage, axis, value: Any) -> float:
    """A subset bound as a number in the axis' CRS unit (times may be ISO strings)."""
    if axis.is_time:
        if isinstance(value, (str, datetime, np.datetime64)):
            return datetime_to_number(value, time_crs_of(axis.crs_axis, cov.crs))
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            raise InvalidParameterValue(
                f"axis {axis.label}: '{value}' is not a number" + (" or time" if axis.is_time else "")
            ) from None
    return float(value)


def axis_coordinates(cov: Coverage, axis) -> np.ndarray:
    """Coordinates for xarray: cell centres, or datetime64 for time axes."""
    coords = axis.coordinates()
    if axis.is_time:
        return number_to_datetime64(coords, time_crs_of(axis.crs_axis, cov.crs))
    return coords


def to_dataset(region: GridRegion, arrays: Mapping[str, Any]) -> xr.Dataset:
    """Wrap band arrays (grid order) into a Dataset with coordinates, CRS and nulls."""
    cov = region.coverage
    coords = {a.label: axis_coordinates(cov, a) for a in cov.axes}
    data_vars = {}
    for name, arr in arrays.items():
        band = cov.band(name)
        attrs = {"units": band.uom, "description": band.description}
        if band.nil_values:
            attrs["nodata"] = [str(nv) for nv in band.nil_values]
            first = band.nil_values[0]
            if not first.is_interval:
                attrs["_FillValue"] = band.fill_value
        data_vars[name] = xr.Variable(cov.dims, arr, attrs)
    ds = xr.Dataset(data_vars, coords=coords)
    for label in region.sliced:
        ds = ds.squeeze(label, drop=False)
    ds.attrs.update({"coverage_id": cov.id, "crs": cov.crs.identifier, "crs_uri": cov.crs.uri()})
    horizontal = cov.crs.horizontal
    if horizontal is not None:
        ds.attrs["crs_wkt"] = horizontal.to_wkt()
    ds.attrs.update({f"metadata_{k}": v for k, v in cov.metadata.items() if isinstance(v, (str, int, float))})
    return ds


def open(home: str | Path | None = None, database_url: str | None = None, config: str | Path | None = None) -> Datacube:  # noqa: A001
    """Open the datacube at ``home`` (default ``$PETACUBE_HOME`` or ``./petacube-data``)."""
    return Datacube(load_settings(config, home=Path(home) if home else None, database_url=database_url))


__all__ = ["Datacube", "CoverageReader", "GridRegion", "open"]
