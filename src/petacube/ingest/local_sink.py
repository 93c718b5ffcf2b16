"""Writing planned slices into this machine's datacube (tile store + catalog).

Per slice: pixels into the tile store in one Icechunk commit, then the coverage
description, the slice record and the import record in one catalog transaction. A crash
between the two leaves tiles nobody references; the re-run writes them again.

The storage *frame* of a regular axis is allocated for every file of the run up front, so
the visible extent can grow file by file (west, east, north or south) without rewriting
stored tiles; only an import into an existing coverage that reaches before its frame
shifts the stored data once.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from petacube.catalog import ImportRecord, SliceRecord
from petacube.errors import SourceFileError
from petacube.ingest.plan import PlannedSlice
from petacube.model import Coverage, IrregularAxis, RegularAxis


@dataclass
class Frame:
    """Storage frame of one regular axis: geo position of storage index 0 and its length."""

    origin: float  # edge (areas) or first instant (points) at storage index 0
    step: float  # signed resolution
    size: int

    def index(self, edge: float) -> int:
        return round((edge - self.origin) / self.step)


class LocalSink:
    """Puts slices of one coverage into a `Datacube`."""

    def __init__(self, cube, plan_coverage: Coverage, existing: Coverage | None):
        self.cube = cube
        self.current = existing  # the committed description (None: not created yet)
        self.template = plan_coverage  # planned union of all slices of the run
        self.frames = self._frames(plan_coverage, existing)

    # ---- frame -----------------------------------------------------------------
    def _frames(self, planned: Coverage, existing: Coverage | None) -> dict[str, Frame]:
        frames: dict[str, Frame] = {}
        for axis in planned.axes:
            if not isinstance(axis, RegularAxis):
                continue
            frame = Frame(axis.origin, axis.resolution if not axis.points else abs(axis.resolution), axis.size)
            if existing is not None:
                old = existing.axis(axis.label)
                old_origin = old.origin - old.storage_offset * (old.resolution if not old.points else abs(old.resolution))
                old_len = old.storage_offset + old.size
                before = round((frame.origin - old_origin) / frame.step)  # <0: planned starts before
                start = min(0, before)
                end = max(old_len, before + frame.size)
                frame = Frame(old_origin + start * frame.step, frame.step, end - start)
            frames[axis.label] = frame
        return frames

    def shifts_needed(self) -> dict[str, int]:
        """Cells by which stored data must move to fit the frame (existing coverages only)."""
        if self.current is None:
            return {}
        out = {}
        for label, frame in self.frames.items():
            old = self.current.axis(label)
            old_origin = old.origin - old.storage_offset * frame.step
            k = round((old_origin - frame.origin) / frame.step)
            if k:
                out[label] = k
        return out

    def frame_coverage(self, cov: Coverage) -> Coverage:
        """``cov`` with regular axes spanning the whole frame (for allocating arrays)."""
        axes = []
        for axis in cov.axes:
            if isinstance(axis, RegularAxis):
                axes.append(replace(axis, size=self.frames[axis.label].size, storage_offset=0))
            else:
                axes.append(axis)
        return replace(cov, axes=tuple(axes))

    # ---- placing a slice -----------------------------------------------------------
    def place(self, sl: PlannedSlice, shape: dict[str, int]) -> tuple[Coverage, list[tuple[slice, ...]], list]:
        """The coverage grown by ``sl``, the storage regions its data go to, and the
        matching selections of the data array (one pair per contiguous slot run)."""
        base = self.current or self.template
        axes = []
        region: list[slice | list[int]] = []
        for axis in base.axes:
            p = sl.placements[axis.label]
            n = shape.get(axis.label, 1)
            if isinstance(axis, IrregularAxis):
                ax = axis if self.current else replace(axis, coefficients=(), slots=())
                slots = []
                for c in p.coefficients:
                    ax, slot = ax.with_coefficient(c)
                    slots.append(slot)
                axes.append(ax)
                region.append(slots)
                continue
            frame = self.frames[axis.label]
            if axis.points:
                start = frame.index(p.lower)
            elif frame.step > 0:
                start = frame.index(p.lower)
            else:
                start = frame.index(p.upper)
            stop = start + n
            if self.current is not None:
                cur = self.current.axis(axis.label)
                cur_start = cur.storage_offset + self.shifts_needed().get(axis.label, 0)
                lo, hi = min(start, cur_start), max(stop, cur_start + cur.size)
            else:
                lo, hi = start, stop
            step = frame.step
            first_edge = frame.origin + lo * step
            last_edge = frame.origin + hi * step if not axis.points else frame.origin + (hi - 1) * step
            lower = min(first_edge, last_edge)
            axes.append(replace(axis, lower=lower, size=hi - lo, storage_offset=lo))
            region.append(slice(start, stop))
        cov = replace(base, axes=tuple(axes))
        return cov, *_split_slot_runs(tuple(region))

    # ---- committing ------------------------------------------------------------------
    def commit_slice(
        self,
        sl: PlannedSlice,
        data: dict[str, np.ndarray] | None,
        shape: dict[str, int],
        fingerprint: str,
        band_indices: tuple[int, ...] = (),
    ) -> Coverage:
        """Write one slice (or register it when ``data`` is None) and commit it."""
        cov, regions, selections = self.place(sl, shape)
        store, catalog = self.cube.store, self.cube.catalog
        shifts = self.shifts_needed()
        if data is not None:
            frame_cov = self.frame_coverage(cov)
            with store.transaction(f"import {sl.path.name} into {cov.id}") as tx:
                tx.ensure_coverage(frame_cov)  # grow first: shifted cells need room
                for label, k in shifts.items():
                    tx.shift(frame_cov, label, k)
                for region, sel in zip(regions, selections):
                    tx.write_bands(frame_cov, region, {name: arr[sel] for name, arr in data.items()})
                    if cov.pyramid:
                        tx.update_pyramid(frame_cov, region)
        records = [
            SliceRecord(
                path=str(sl.path),
                region=tuple((r.start, r.stop) for r in region),
                registered=data is None,
                band_indices=band_indices,
                metadata=sl.metadata,
            )
            for region in regions
        ]
        shift = next(iter(shifts.items()), None)
        if shift is not None:
            shift = (cov.axis_index(shift[0]), shift[1])
        expected = catalog.version(cov.id) if self.current is not None else 0
        catalog.commit(
            cov,
            new_slices=records,
            imported=[ImportRecord(path=str(sl.original_path or sl.path), fingerprint=fingerprint)],
            expected_version=expected,
            shift=shift,
        )
        self.current = cov
        return cov


def _split_slot_runs(region: tuple[slice | list[int], ...]) -> tuple[list[tuple[slice, ...]], list]:
    """Storage regions as plain slices: irregular slot lists cut into consecutive runs.

    Returns the regions and, for each, the selection of the slice's data array."""
    runs: list[tuple[slice, ...]] = [()]
    sels: list[tuple] = [()]
    for r in region:
        if isinstance(r, slice):
            runs = [run + (r,) for run in runs]
            sels = [sel + (slice(None),) for sel in sels]
            continue
        pieces = []  # (slot slice, data slice)
        i = 0
        while i < len(r):
            j = i
            while j + 1 < len(r) and r[j + 1] == r[j] + 1:
                j += 1
            pieces.append((slice(r[i], r[j] + 1), slice(i, j + 1)))
            i = j + 1
        if not pieces:
            raise SourceFileError("a slice without coordinates on an irregular axis")
        runs = [run + (p[0],) for run in runs for p in pieces]
        sels = [sel + (p[1],) for sel in sels for p in pieces]
    return runs, sels
