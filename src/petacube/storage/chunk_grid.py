"""Regions of storage indices and the chunks (tiles) they touch.

A region has one entry per axis: a ``slice`` (step 1) or a sequence of indices, e.g. the
storage slots of an irregular time axis in coordinate order, which need not be sorted
and may repeat. Planning a read maps every chunk that intersects the region to the
pieces of it that land in the output, so each chunk is fetched and decoded once however
many output positions it feeds.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from petacube.errors import InvalidSubsetting

AxisSelector = slice | Sequence[int] | np.ndarray
Region = tuple[AxisSelector, ...]
Piece = tuple[tuple[slice, ...], tuple[slice, ...]]  # (inside the chunk, inside the output)


@dataclass(frozen=True)
class ChunkPlan:
    """One chunk a read needs and where its cells go."""

    coords: tuple[int, ...]
    pieces: tuple[Piece, ...]


def normalize_region(region: Region, shape: tuple[int, ...]) -> tuple[slice | np.ndarray, ...]:
    """Check ``region`` against an array's ``shape``: explicit slices, or int64 index arrays."""
    if len(region) != len(shape):
        raise InvalidSubsetting(f"region {region!r} has {len(region)} axes but the array has {len(shape)}")
    out: list[slice | np.ndarray] = []
    for axis, (sel, size) in enumerate(zip(region, shape)):
        if isinstance(sel, slice):
            start, stop, step = sel.start, sel.stop, sel.step
            start = 0 if start is None else int(start)
            stop = size if stop is None else int(stop)
            if step not in (None, 1):
                raise InvalidSubsetting(f"axis {axis}: slices with a step ({sel}) are not supported")
            if not 0 <= start <= stop <= size:
                raise InvalidSubsetting(f"axis {axis}: {start}:{stop} is outside the stored extent 0:{size}")
            out.append(slice(start, stop))
        else:
            idx = np.asarray(sel, dtype=np.int64).reshape(-1)
            if idx.size and (idx.min() < 0 or idx.max() >= size):
                raise InvalidSubsetting(f"axis {axis}: indices {idx.tolist()} are outside the stored extent 0:{size}")
            out.append(idx)
    return tuple(out)


def selection_shape(region: tuple[slice | np.ndarray, ...]) -> tuple[int, ...]:
    """Shape of the array a normalized region selects."""
    return tuple(s.stop - s.start if isinstance(s, slice) else len(s) for s in region)


def covering_slices(region: tuple[slice | np.ndarray, ...]) -> tuple[slice, ...]:
    """The smallest box of slices holding a normalized region."""
    return tuple(
        s if isinstance(s, slice) else (slice(int(s.min()), int(s.max()) + 1) if len(s) else slice(0, 0))
        for s in region
    )


def _axis_segments(sel: slice | np.ndarray, chunk: int) -> dict[int, list[tuple[slice, slice]]]:
    """Per chunk index along one axis: (slice inside the chunk, slice inside the output)."""
    segments: dict[int, list[tuple[slice, slice]]] = {}
    if isinstance(sel, slice):
        for c in range(sel.start // chunk, -(-sel.stop // chunk)):
            lo, hi = max(sel.start, c * chunk), min(sel.stop, (c + 1) * chunk)
            segments[c] = [(slice(lo - c * chunk, hi - c * chunk), slice(lo - sel.start, hi - sel.start))]
        return segments
    if not len(sel):
        return segments
    chunks, local = np.divmod(sel, chunk)
    # a run continues while the next output position reads the next cell of the same chunk
    breaks = np.flatnonzero((np.diff(chunks) != 0) | (np.diff(local) != 1)) + 1
    starts = np.concatenate(([0], breaks))
    ends = np.concatenate((breaks, [len(sel)]))
    for a, b in zip(starts.tolist(), ends.tolist()):
        c, l0 = int(chunks[a]), int(local[a])
        segments.setdefault(c, []).append((slice(l0, l0 + b - a), slice(a, b)))
    return segments


def plan_chunks(region: tuple[slice | np.ndarray, ...], chunks: tuple[int, ...]) -> list[ChunkPlan]:
    """The chunks a normalized region touches, each with the pieces it contributes."""
    if 0 in selection_shape(region):
        return []
    per_axis = [_axis_segments(sel, c) for sel, c in zip(region, chunks)]
    plans = []
    for coords in itertools.product(*(sorted(seg) for seg in per_axis)):
        pieces = tuple(
            (tuple(p[0] for p in combo), tuple(p[1] for p in combo))
            for combo in itertools.product(*(seg[c] for seg, c in zip(per_axis, coords)))
        )
        plans.append(ChunkPlan(tuple(coords), pieces))
    return plans


def chunk_aligned_blocks(
    box: tuple[slice, ...], chunks: tuple[int, ...], max_cells: int
) -> Iterator[tuple[slice, ...]]:
    """Split ``box`` into blocks on chunk boundaries, each at most ``max_cells`` (but at least one chunk).

    Blocks grow from the last axis backwards, so they stay contiguous in C order."""
    multiples = [1] * len(chunks)
    cells = math.prod(chunks)
    for i in reversed(range(len(chunks))):
        span = -(-box[i].stop // chunks[i]) - box[i].start // chunks[i]
        m = max(1, min(span, max_cells // max(1, cells)))
        multiples[i] = m
        cells *= m
        if m < span:
            break
    edges = []
    for sel, c, m in zip(box, chunks, multiples):
        step = c * m
        first = (sel.start // c) * c
        bounds = list(range(first, sel.stop, step))
        edges.append([slice(max(lo, sel.start), min(lo + step, sel.stop)) for lo in bounds])
    return itertools.product(*edges)
