"""Reading regions of zarr arrays from an Icechunk store: fetch chunks in batches, decode on all cores.

Why not ``zarr.Array.__getitem__``: zarr-python's pipeline runs every chunk through
several coroutines and a per-chunk ``to_thread`` hop; on a two-core machine it read a
24 x 2048 x 2048 uint16 region at about half the rate plain zstd decoding of its chunks
reaches, and its orthogonal indexing with index lists (irregular time slots) was several
times slower still. petacube writes every array itself with one known codec chain
(bytes, then zstd), so it fetches the chunk objects through the store, decompresses them
with numcodecs on a thread pool (zstd releases the GIL) into a per-thread buffer and
pastes them into the output; each chunk is decoded once however many output positions
it feeds. Arrays with any other codec chain go through zarr.
"""

from __future__ import annotations

import asyncio
import math
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, Future
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

import numpy as np
import zarr
from numcodecs import zstd as zstd_codec
from zarr.abc.store import Store
from zarr.codecs import BytesCodec, ZstdCodec
from zarr.core.buffer import Buffer, default_buffer_prototype

from petacube.storage import background_loop
from petacube.storage.chunk_grid import (
    ChunkPlan,
    Region,
    normalize_region,
    plan_chunks,
    selection_shape,
)

# Chunks fetched together (at most): bigger batches wake the event loop less often
# (measured: 8 -> 32 gains ~5 %), smaller ones bound the compressed bytes a huge read
# holds (two batches per worker: 32 x 2 x 2 x ~0.4 MB for 512x512 uint16 tiles).
BATCH = 32

# Set by readers that accept read-only results: an output whose chunks are all missing is
# returned as a broadcast of the fill value (no memory, and the engine's fused kernels
# compute it once instead of for every cell). See `missing_as_constant`.
_MISSING_AS_CONSTANT: ContextVar[bool] = ContextVar("petacube_missing_as_constant", default=False)


@contextmanager
def missing_as_constant() -> Iterator[None]:
    """Within this block, reads whose region has no stored chunk return a read-only
    broadcast of the fill value instead of a filled array (sparse coverages: a query over
    100 GB of mostly unwritten tiles touches only the written ones)."""
    token = _MISSING_AS_CONSTANT.set(True)
    try:
        yield
    finally:
        _MISSING_AS_CONSTANT.reset(token)


@dataclass(frozen=True)
class ChunkFormat:
    """What petacube needs to decode an array's chunks without zarr."""

    path: str
    chunk_shape: tuple[int, ...]
    stored_dtype: np.dtype  # with the byte order the bytes codec wrote
    fill_value: object
    zstd: bool
    encode_key: Callable[[tuple[int, ...]], str]

    @classmethod
    def of(cls, array: zarr.Array) -> "ChunkFormat | None":
        """The format of ``array``, or None when its codecs are not the plain bytes[+zstd] chain."""
        meta = array.metadata
        if getattr(meta, "zarr_format", None) != 3:
            return None
        codecs = list(meta.codecs)
        if not codecs or not isinstance(codecs[0], BytesCodec):
            return None
        if len(codecs) == 2 and not (isinstance(codecs[1], ZstdCodec) and not codecs[1].checksum):
            return None
        if len(codecs) > 2:
            return None
        dtype = np.dtype(array.dtype)
        endian = codecs[0].endian
        if endian is not None and dtype.itemsize > 1:
            dtype = dtype.newbyteorder("<" if endian.value == "little" else ">")
        return cls(
            path=array.path,
            chunk_shape=tuple(array.chunks),
            stored_dtype=dtype,
            fill_value=array.fill_value,
            zstd=len(codecs) == 2,
            encode_key=meta.chunk_key_encoding.encode_chunk_key,
        )

    def key(self, coords: tuple[int, ...]) -> str:
        return f"{self.path}/{self.encode_key(coords)}" if self.path else self.encode_key(coords)

    @property
    def nbytes(self) -> int:
        return math.prod(self.chunk_shape) * self.stored_dtype.itemsize

    def decode_into(self, raw: Buffer, scratch: bytearray) -> np.ndarray:
        """A chunk's cells from its stored bytes; zstd decodes into ``scratch``."""
        data = raw.as_numpy_array()
        if self.zstd:
            zstd_codec.decompress(data, scratch)
            data = scratch
        cells = math.prod(self.chunk_shape)
        return np.frombuffer(data, dtype=self.stored_dtype, count=cells).reshape(self.chunk_shape)


@dataclass(frozen=True)
class _Job:
    fmt: ChunkFormat
    plan: ChunkPlan
    out: np.ndarray
    missing: list | None = field(default=None, compare=False)  # jobs of missing chunks, filled later

    def paste(self, raw: Buffer | None, scratch: "_Scratch") -> None:
        if raw is None and self.missing is not None:
            self.missing.append(self)  # the output may stay a constant: fill only if it does not
            return
        self.fill(raw, scratch)

    def fill(self, raw: Buffer | None, scratch: "_Scratch") -> None:
        chunk = None if raw is None else self.fmt.decode_into(raw, scratch.buffer(self.fmt.nbytes))
        for inside, target in self.plan.pieces:
            self.out[target] = self.fmt.fill_value if chunk is None else chunk[inside]


class _Scratch(threading.local):
    """A per-thread decode buffer: decoding into fresh memory costs a page fault per 4 KiB."""

    def __init__(self) -> None:
        self.data = bytearray()

    def buffer(self, nbytes: int) -> bytearray:
        if len(self.data) < nbytes:
            self.data = bytearray(nbytes)
        return self.data


_scratch = _Scratch()


def read_regions(
    store: Store, requests: Sequence[tuple[zarr.Array, Region]], pool: Executor, threads: int
) -> list[np.ndarray]:
    """Read several (array, region) pairs of one store together; one output array each.

    ``threads`` workers on ``pool`` fetch batches of chunks through the background loop
    and decode them; they wait only on that loop, so callers may run on another pool."""
    outputs: list[np.ndarray] = []
    jobs: list[_Job] = []
    fallbacks = []
    constant = _MISSING_AS_CONSTANT.get()
    deferred: list[tuple[int, list[_Job], int, object]] = []  # output, its missing jobs, its job count, fill
    for array, region in requests:
        norm = normalize_region(region, tuple(array.shape))
        fmt = ChunkFormat.of(array)
        if fmt is None:
            # zarr's orthogonal indexing takes slices and index arrays alike
            fallbacks.append((len(outputs), pool.submit(array.get_orthogonal_selection, norm)))
            outputs.append(np.empty(0))
            continue
        out = np.empty(selection_shape(norm), dtype=array.dtype)
        missing: list[_Job] | None = [] if constant else None
        planned = [_Job(fmt, plan, out, missing) for plan in plan_chunks(norm, fmt.chunk_shape)]
        if missing is not None:
            deferred.append((len(outputs), missing, len(planned), fmt.fill_value))
        outputs.append(out)
        jobs.extend(planned)
    if jobs:
        workers = max(1, min(threads, len(jobs)))
        batches = _Batches(store, jobs, size=min(BATCH, math.ceil(len(jobs) / workers)))
        running = [pool.submit(batches.work) for _ in range(workers)]
        for w in running:
            w.result()
    for i, future in fallbacks:
        outputs[i] = np.asarray(future.result())
    for i, missing, count, fill in deferred:
        if missing and len(missing) == count and outputs[i].size:
            outputs[i] = np.broadcast_to(np.asarray(fill, dtype=outputs[i].dtype), outputs[i].shape)
        else:
            for job in missing:
                job.fill(None, _scratch)
    return outputs


class _Batches:
    """Hands out batches of chunk jobs to decode workers.

    Each worker fetches its next batch while decoding the current one, so fetching
    overlaps decoding with at most two batches in memory per worker, and the event loop
    wakes once per batch rather than once per chunk."""

    def __init__(self, store: Store, jobs: list[_Job], size: int):
        self._store = store
        self._batches = iter([jobs[i:i + size] for i in range(0, len(jobs), size)])
        self._lock = threading.Lock()
        self._failed = False

    def _next(self) -> list[_Job] | None:
        with self._lock:
            return None if self._failed else next(self._batches, None)

    def _fetch(self, batch: list[_Job] | None) -> Future | None:
        if batch is None:
            return None
        return background_loop.submit(_fetch(self._store, [j.fmt.key(j.plan.coords) for j in batch]))

    def work(self) -> None:
        try:
            batch = self._next()
            pending = self._fetch(batch)
            while batch is not None and pending is not None:
                raws = pending.result()
                batch, current = self._next(), batch
                pending = self._fetch(batch)
                for job, raw in zip(current, raws):
                    job.paste(raw, _scratch)
        except BaseException:
            self._failed = True  # the other workers stop at their next batch
            raise


async def _fetch(store: Store, keys: list[str]) -> list[Buffer | None]:
    prototype = default_buffer_prototype()
    return await asyncio.gather(*(store.get(k, prototype=prototype) for k in keys))
