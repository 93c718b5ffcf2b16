"""Moving an array's cells toward higher indices along one axis, tile row by tile row.

Rows of tiles are rewritten from the far end backwards: a row's source cells lie below
it, in rows not yet rewritten, so the array can be shifted in place with memory bounded
by one block. When the offset is a whole number of tiles, tiles are moved as stored bytes
(no decoding or encoding); otherwise every block is read, shifted and re-encoded.
"""

from __future__ import annotations

import asyncio
import itertools
import math
from typing import TYPE_CHECKING

import numpy as np
import zarr
from zarr.abc.store import Store
from zarr.core.buffer import default_buffer_prototype

from petacube.storage import background_loop
from petacube.storage.chunk_grid import chunk_aligned_blocks, selection_shape
from petacube.storage.chunk_reader import ChunkFormat, read_regions

if TYPE_CHECKING:
    from petacube.storage.tile_store import TileStore

MOVES_IN_FLIGHT = 64


def shift_array(
    array: zarr.Array, store: Store, axis: int, offset: int, tiles: "TileStore", max_cells: int
) -> None:
    """Shift ``array``'s cells ``offset`` cells up along ``axis``; the first ``offset`` get the fill value."""
    fmt = ChunkFormat.of(array)
    if fmt is not None and offset % fmt.chunk_shape[axis] == 0:
        background_loop.run(_move_tiles(store, fmt, tuple(array.shape), axis, offset // fmt.chunk_shape[axis]))
        return
    shape, chunks = tuple(array.shape), tuple(array.chunks)
    step = chunks[axis]
    for start in reversed(range(0, shape[axis], step)):
        row = tuple(
            slice(start, min(start + step, shape[axis])) if i == axis else slice(0, n) for i, n in enumerate(shape)
        )
        futures = [
            tiles.task_pool.submit(_shift_block, array, store, axis, offset, block, tiles)
            for block in chunk_aligned_blocks(row, chunks, max_cells)
        ]
        for f in futures:  # the next row down may only start when this one is written
            f.result()


def _shift_block(
    array: zarr.Array, store: Store, axis: int, offset: int, block: tuple[slice, ...], tiles: "TileStore"
) -> None:
    out = np.full(selection_shape(block), array.fill_value, dtype=array.dtype)
    src_lo, src_hi = block[axis].start - offset, block[axis].stop - offset
    if src_hi > 0:
        lo = max(0, src_lo)
        source = block[:axis] + (slice(lo, src_hi),) + block[axis + 1:]
        data = read_regions(store, [(array, source)], tiles.decode_pool, tiles.threads)[0]
        target = (slice(None),) * axis + (slice(lo - src_lo, None),)
        out[target] = data
    array[block] = out


async def _move_tiles(store: Store, fmt: ChunkFormat, shape: tuple[int, ...], axis: int, rows: int) -> None:
    grid = [math.ceil(n / c) for n, c in zip(shape, fmt.chunk_shape)]
    others = [range(g) for i, g in enumerate(grid) if i != axis]
    prototype = default_buffer_prototype()
    in_flight = asyncio.Semaphore(MOVES_IN_FLIGHT)

    async def move(row: int, rest: tuple[int, ...]) -> None:
        dest = rest[:axis] + (row,) + rest[axis:]
        source = rest[:axis] + (row - rows,) + rest[axis:]
        async with in_flight:
            raw = await store.get(fmt.key(source), prototype=prototype) if row >= rows else None
            if raw is not None:
                await store.set(fmt.key(dest), raw)
            elif await store.exists(fmt.key(dest)):
                await store.delete(fmt.key(dest))  # reads back as the fill value

    for row in reversed(range(grid[axis])):
        async with asyncio.TaskGroup() as group:
            for rest in itertools.product(*others):
                group.create_task(move(row, rest))
