"""Which chunks a read touches, how blocks split a box, and decoding chunks of several codec chains."""

from __future__ import annotations

import itertools
import math
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import zarr
from zarr.codecs import BloscCodec, BytesCodec, ZstdCodec

from petacube.storage.chunk_grid import chunk_aligned_blocks, normalize_region, plan_chunks
from petacube.storage.chunk_reader import read_regions


def _apply(plans, source: np.ndarray, chunks, out_shape) -> np.ndarray:
    """Assemble an output from the plans the way a reader does, chunk by chunk."""
    out = np.full(out_shape, -1, dtype=source.dtype)
    for plan in plans:
        origin = [c * n for c, n in zip(plan.coords, chunks)]
        chunk = source[tuple(slice(o, o + n) for o, n in zip(origin, chunks))]
        for inside, target in plan.pieces:
            out[target] = chunk[inside]
    return out


def test_only_intersecting_chunks_each_once():
    shape, chunks = (4, 100, 90), (1, 32, 32)
    region = normalize_region((slice(1, 3), slice(20, 70), slice(31, 33)), shape)
    plans = plan_chunks(region, chunks)
    expected = set(itertools.product(range(1, 3), range(0, 3), range(0, 2)))  # rows 20..69, cols 31..32
    assert [p.coords for p in plans] == sorted(expected)
    source = np.arange(math.prod(shape)).reshape(shape)
    padded = np.pad(source, [(0, 0), (0, 28), (0, 6)])  # whole chunks at the edges
    got = _apply(plans, padded, chunks, (2, 50, 2))
    np.testing.assert_array_equal(got, source[1:3, 20:70, 31:33])


def test_slot_lists_decode_each_chunk_once():
    shape, chunks = (6, 40, 40), (1, 40, 40)
    slots = [5, 1, 1, 3, 5, 0]
    plans = plan_chunks(normalize_region((slots, slice(0, 40), slice(0, 40)), shape), chunks)
    assert sorted(p.coords[0] for p in plans) == [0, 1, 3, 5]
    source = np.arange(math.prod(shape)).reshape(shape)
    np.testing.assert_array_equal(_apply(plans, source, chunks, (6, 40, 40)), source[slots])


def test_runs_of_consecutive_slots_become_one_piece():
    plans = plan_chunks(normalize_region(([2, 3, 4, 5], slice(0, 8)), (10, 8)), (4, 8))
    assert [(p.coords, len(p.pieces)) for p in plans] == [((0, 0), 1), ((1, 0), 1)]


def test_chunk_aligned_blocks_cover_the_box():
    box = (slice(3, 50), slice(10, 200))
    chunks = (8, 16)
    blocks = list(chunk_aligned_blocks(box, chunks, max_cells=8 * 16 * 3))
    covered = np.zeros((50, 200), dtype=int)
    for b in blocks:
        covered[b] += 1
        assert math.prod(s.stop - s.start for s in b) <= 8 * 16 * 3
        for s, c, lo in zip(b, chunks, (3, 10)):
            assert s.start == lo or s.start % c == 0  # starts on a chunk boundary
    expected = np.zeros_like(covered)
    expected[3:50, 10:200] = 1
    np.testing.assert_array_equal(covered, expected)


@pytest.mark.parametrize(
    "codecs",
    [
        {"compressors": ZstdCodec(level=3)},
        {"compressors": None},
        {"serializer": BytesCodec(endian="big"), "compressors": ZstdCodec(level=1)},
        {"compressors": BloscCodec()},  # not decoded by petacube itself: zarr reads it
    ],
    ids=["zstd", "raw", "big-endian", "blosc"],
)
def test_reader_handles_codec_chains(codecs):
    store = zarr.storage.MemoryStore()
    data = np.arange(5 * 30 * 20, dtype="int32").reshape(5, 30, 20) - 1000
    array = zarr.create_array(
        store, name="a", shape=data.shape, chunks=(2, 8, 8), dtype="int32", fill_value=7, **codecs
    )
    array[:, :, :15] = data[:, :, :15]  # chunks beyond column 16 stay unwritten
    expected = data.copy()
    expected[:, :, 15:] = 7
    with ThreadPoolExecutor(2) as pool:
        region = ([4, 0, 0, 3], slice(5, 29), slice(3, 20))
        got = read_regions(store, [(array, region)], pool, 2)[0]
    np.testing.assert_array_equal(got, expected[np.ix_([4, 0, 0, 3], range(5, 29), range(3, 20))])
