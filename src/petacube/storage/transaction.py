"""Writing tiles: one Icechunk writable session, committed as a whole or not at all.

Commits of several processes are serialised with a file lock, because Icechunk's local
filesystem storage cannot arbitrate concurrent commits itself. A commit whose branch moved
since the session began is rebased onto the new tip when the two touched different
chunks; otherwise it fails with :class:`~petacube.errors.StorageError` and nothing of it
is visible.

Icechunk counts *any* metadata change of an array (growing it, creating it) against
chunk writes to that array in a concurrent session: a writer conflicts with a growth
committed while it was writing, even when their tiles differ. Writers that run in
parallel should therefore grow coverages up front, in a short transaction of their own
(``ensure_coverage`` with room for the slices to come), and then only write tiles.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from concurrent.futures import Future, wait
from typing import TYPE_CHECKING

import filelock
import icechunk
import numpy as np
import zarr
import zarr.errors
from zarr.codecs import ZstdCodec

from petacube.errors import InvalidParameterValue, NoSuchCoverage, StorageError
from petacube.model import Coverage, IrregularAxis
from petacube.storage import layout
from petacube.storage.chunk_grid import (
    Region,
    chunk_aligned_blocks,
    covering_slices,
    normalize_region,
    selection_shape,
)
from petacube.storage.chunk_reader import read_regions
from petacube.storage.pyramid import block_mean, level_box
from petacube.storage.shift import shift_array
from petacube.storage.tiling import default_tile_shape

if TYPE_CHECKING:
    from petacube.storage.tile_store import TileStore

COMMIT_LOCK_TIMEOUT = 600.0  # seconds; a commit itself takes milliseconds
# level-0 cells one pyramid step reads at once (64 MiB as float64 sums)
MAX_BLOCK_CELLS = 8 * 1024 * 1024


class Transaction:
    """Changes to the tile store that become visible together when committed."""

    def __init__(self, tiles: "TileStore", session: icechunk.Session):
        self._tiles = tiles
        self._session = session
        self._store = session.store
        self._arrays: dict[str, zarr.Array] = {}
        self._open = True

    # ---- structure -------------------------------------------------------------------

    def ensure_coverage(self, cov: Coverage) -> None:
        """Create the coverage's group and band arrays (all levels), or grow them to ``cov.storage_shape``.

        Arrays never shrink. Existing arrays keep their chunk shape. Pyramid levels whose
        factors changed, or that ``cov`` no longer has, are dropped (recreated empty: run
        :meth:`update_pyramid` over the coverage to fill them)."""
        self._check_open()
        layout.check_band_names(cov)
        shape = cov.storage_shape
        group = zarr.open_group(self._store, path=layout.coverage_path(cov.id), mode="a")
        old_attrs = group.attrs.asdict()
        chunks = self._chunk_shape(cov)
        old_factors = {
            d["path"]: d["factors"] for d in old_attrs.get("multiscales", [{}])[0].get("datasets", [])
        }
        for level in range(len(cov.pyramid) + 1, _stored_level_count(group) + 1):
            del group[f"level_{level}"]
            self._forget(layout.level_path(cov.id, level))
        for level in range(len(cov.pyramid) + 1):
            factors = layout.level_factors(cov, level)
            if level and old_factors.get(f"level_{level}", list(factors)) != list(factors):
                del group[f"level_{level}"]
                self._forget(layout.level_path(cov.id, level))
            level_shape = layout.level_shape(shape, factors)
            for band in cov.bands:
                self._ensure_array(cov, band.name, level, level_shape, chunks)
        attrs = layout.group_attributes(cov, chunks, self._tiles.compression_level)
        if old_attrs != attrs:
            group.attrs.put(attrs)

    def delete_coverage(self, cov_id: str) -> None:
        """Remove a coverage's group, all bands and levels."""
        self._check_open()
        root = zarr.open_group(self._store, path=layout.ROOT, mode="a")
        if cov_id not in root:
            raise NoSuchCoverage(f"coverage {cov_id} is not in the tile store")
        del root[cov_id]
        self._forget(layout.coverage_path(cov_id))

    # ---- data ------------------------------------------------------------------------

    def write(self, cov: Coverage, band: str, region: tuple[slice, ...], data: np.ndarray) -> None:
        """Write ``data`` into level 0 of ``band`` at ``region`` (storage indices, slices)."""
        self._check_open()
        array = self._array(cov, band)
        if not all(isinstance(s, slice) and s.start is not None and s.stop is not None for s in region):
            raise InvalidParameterValue(f"a write region needs slices with explicit bounds, got {region!r}")
        box = normalize_region(region, tuple(array.shape))
        data = np.asarray(data)
        if data.shape != selection_shape(box):
            raise InvalidParameterValue(
                f"coverage {cov.id}, band {band}: data of shape {data.shape} does not fit region "
                f"{_show(box)} of shape {selection_shape(box)}"
            )
        array[box] = data.astype(array.dtype, copy=False)

    def write_bands(self, cov: Coverage, region: tuple[slice, ...], data: Mapping[str, np.ndarray]) -> None:
        """Write several bands of the same region, in parallel."""
        self._check_open()
        _wait_all([self._tiles.task_pool.submit(self.write, cov, b, region, d) for b, d in data.items()])

    def read(self, cov: Coverage, band: str, region: Region, level: int = 0) -> np.ndarray:
        """Cells as this transaction sees them, its own uncommitted writes included."""
        self._check_open()
        array = self._array(cov, band, level)
        return read_regions(self._store, [(array, region)], self._tiles.decode_pool, self._tiles.threads)[0]

    def shift(self, cov: Coverage, axis_label: str, offset: int) -> None:
        """Move every band's cells ``offset`` cells toward higher indices along a regular axis.

        For a mosaic that grows toward negative indices (a tile west of the existing ones):
        grow the coverage first (:meth:`ensure_coverage` with the larger axis), shift by the
        number of new cells, then write the new tile at the low end. Cells shifted past the
        end are dropped; the first ``offset`` cells get the fill value. Pyramid levels are
        recomputed afterwards.

        This is costly: every tile of every band is rewritten (when ``offset`` is a
        multiple of the tile extent along the axis, tiles are moved without decoding)."""
        self._check_open()
        axis = cov.axis(axis_label)
        if isinstance(axis, IrregularAxis):
            raise InvalidParameterValue(
                f"coverage {cov.id}: axis {axis.label} is irregular; new slices take new storage slots, nothing shifts"
            )
        if offset < 0 or int(offset) != offset:
            raise InvalidParameterValue(f"shift offset must be a whole number of cells ≥ 0, got {offset}")
        if offset == 0:
            return
        index = cov.axis_index(axis.label)
        for band in cov.bands:
            shift_array(self._array(cov, band.name), self._store, index, int(offset), self._tiles, MAX_BLOCK_CELLS)
        if cov.pyramid:
            self.update_pyramid(cov, tuple(slice(0, n) for n in self._array(cov, cov.bands[0].name).shape))

    def update_pyramid(self, cov: Coverage, region: Region) -> None:
        """Recompute every pyramid level where level-0 ``region`` changed (block means over valid cells).

        The region is widened to whole blocks of each level's factors; level 0 is read from
        this transaction, so it sees what was just written."""
        self._check_open()
        if not cov.pyramid:
            return
        base_shape = tuple(self._array(cov, cov.bands[0].name).shape)
        box = covering_slices(normalize_region(region, base_shape))
        futures = []
        for level in range(1, len(cov.pyramid) + 1):
            factors = layout.level_factors(cov, level)
            for band in cov.bands:
                target = self._array(cov, band.name, level)
                lbox = level_box(box, factors, tuple(target.shape))
                for block in chunk_aligned_blocks(lbox, tuple(target.chunks), math.prod(target.chunks)):
                    futures.append(
                        self._tiles.task_pool.submit(self._update_level_block, cov, band.name, level, block)
                    )
        _wait_all(futures)

    # ---- commit ----------------------------------------------------------------------

    def commit(self, message: str) -> str | None:
        """Make the changes visible; returns the new snapshot id (None when nothing changed)."""
        self._check_open()
        self._open = False
        if not self._session.has_uncommitted_changes:
            return None
        try:
            with filelock.FileLock(self._tiles.commit_lock_path, timeout=COMMIT_LOCK_TIMEOUT):
                try:
                    return self._session.commit(message)
                except icechunk.ConflictError:
                    # another process committed since this session began: replay our
                    # changes on its snapshot unless both touched the same chunks
                    self._session.rebase(icechunk.ConflictDetector())
                    return self._session.commit(message)
        except icechunk.RebaseFailedError as exc:
            what = "; ".join(f"{c.conflict_type} at {c.path}" for c in exc.conflicts)
            raise StorageError(
                f"transaction '{message}' was not committed: a concurrent commit changed the same "
                f"data ({what}). Nothing of it is visible; run it again."
            ) from exc
        except icechunk.ConflictError as exc:  # only if someone commits without the lock
            raise StorageError(
                f"transaction '{message}' was not committed: the branch moved again during the commit ({exc})"
            ) from exc
        except filelock.Timeout as exc:
            raise StorageError(
                f"transaction '{message}' was not committed: the commit lock {self._tiles.commit_lock_path} "
                f"stayed taken for {COMMIT_LOCK_TIMEOUT:.0f} s"
            ) from exc
        except icechunk.IcechunkError as exc:
            raise StorageError(f"transaction '{message}' was not committed: {exc}") from exc

    def discard(self) -> None:
        """Drop every change of this transaction."""
        if self._open:
            self._open = False
            if self._session.has_uncommitted_changes:
                self._session.discard_changes()

    # ---- internals -------------------------------------------------------------------

    def _check_open(self) -> None:
        if not self._open:
            raise StorageError("this transaction has already been committed or discarded")

    def _chunk_shape(self, cov: Coverage) -> tuple[int, ...]:
        """Existing arrays keep their chunks; new coverages use the coverage's tile shape."""
        for band in cov.bands:
            existing = self._open_array(layout.band_path(cov.id, band.name))
            if existing is not None:
                return tuple(existing.chunks)
        chunks = tuple(cov.tile_shape) if cov.tile_shape else default_tile_shape(cov)
        if len(chunks) != len(cov.axes) or min(chunks) < 1:
            raise InvalidParameterValue(
                f"coverage {cov.id}: tile shape {chunks} needs one extent ≥ 1 per axis ({', '.join(cov.dims)})"
            )
        return chunks

    def _ensure_array(
        self, cov: Coverage, band: str, level: int, shape: tuple[int, ...], chunks: tuple[int, ...]
    ) -> None:
        path = layout.band_path(cov.id, band, level)
        dtype = np.dtype(cov.band(band).dtype)
        array = self._open_array(path)
        if array is None:
            array = zarr.create_array(
                self._store,
                name=path,
                shape=shape,
                chunks=chunks,
                dtype=dtype,
                compressors=ZstdCodec(level=self._tiles.compression_level),
                fill_value=cov.band(band).fill_value,
                dimension_names=cov.dims,
            )
        else:
            if np.dtype(array.dtype) != dtype:
                raise InvalidParameterValue(
                    f"coverage {cov.id}: band {band} is stored as {array.dtype}, not {dtype}; "
                    "a band's data type cannot change"
                )
            grown = tuple(max(a, b) for a, b in zip(array.shape, shape))
            if grown != tuple(array.shape):
                array.resize(grown)
                array = zarr.open_array(self._store, path=path, mode="r+")
        self._arrays[path] = array

    def _open_array(self, path: str) -> zarr.Array | None:
        if path in self._arrays:
            return self._arrays[path]
        try:
            array = zarr.open_array(self._store, path=path, mode="r+")
        except (zarr.errors.NodeNotFoundError, FileNotFoundError, KeyError):
            return None
        self._arrays[path] = array
        return array

    def _array(self, cov: Coverage, band: str, level: int = 0) -> zarr.Array:
        name = cov.band(band).name
        layout.level_factors(cov, level)
        array = self._open_array(layout.band_path(cov.id, name, level))
        if array is None:
            raise NoSuchCoverage(
                f"coverage {cov.id} has no stored band '{name}' at level {level}; call ensure_coverage first"
            )
        return array

    def _forget(self, prefix: str) -> None:
        for path in [p for p in self._arrays if p == prefix or p.startswith(prefix + "/")]:
            del self._arrays[path]

    def _update_level_block(self, cov: Coverage, band: str, level: int, block: tuple[slice, ...]) -> None:
        """Recompute one chunk's worth of a level from level 0."""
        factors = layout.level_factors(cov, level)
        base = self._array(cov, band)
        values = self._level_values(cov, band, base, factors, block)
        self._array(cov, band, level)[block] = values

    def _level_values(
        self, cov: Coverage, band: str, base: zarr.Array, factors: tuple[int, ...], block: tuple[slice, ...]
    ) -> np.ndarray:
        source = tuple(
            slice(s.start * f, min(s.stop * f, n)) for s, f, n in zip(block, factors, base.shape)
        )
        extents = selection_shape(block)
        if math.prod(selection_shape(source)) > MAX_BLOCK_CELLS and max(extents) > 1:
            # halve the level block along its longest axis to bound memory
            axis = extents.index(max(extents))
            mid = block[axis].start + extents[axis] // 2
            low = block[:axis] + (slice(block[axis].start, mid),) + block[axis + 1:]
            high = block[:axis] + (slice(mid, block[axis].stop),) + block[axis + 1:]
            parts = [self._level_values(cov, band, base, factors, b) for b in (low, high)]
            return np.concatenate(parts, axis=axis)
        data = read_regions(self._store, [(base, source)], self._tiles.decode_pool, self._tiles.threads)[0]
        return block_mean(data, cov.band(band), factors)


def _stored_level_count(group: zarr.Group) -> int:
    names = [n for n in group.group_keys() if n.startswith("level_") and n[6:].isdigit()]
    return max((int(n[6:]) for n in names), default=0)


def _wait_all(futures: list[Future]) -> None:
    wait(futures)
    for f in futures:
        f.result()  # re-raise the first failure


def _show(box) -> str:
    return "[" + ", ".join(f"{s.start}:{s.stop}" if isinstance(s, slice) else str(list(s)) for s in box) + "]"
