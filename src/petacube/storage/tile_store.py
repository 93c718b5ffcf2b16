"""The tile store: coverages' tiles in one Icechunk repository on the local filesystem.

Readers see the last committed snapshot of branch ``main``; writers work in a
:class:`~petacube.storage.transaction.Transaction` that becomes visible all at once when
it commits. See :mod:`petacube.storage.layout` for where arrays live.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import filelock
import icechunk
import numpy as np
import zarr
import zarr.errors
from zarr.abc.store import Store

from petacube.errors import InvalidParameterValue, NoSuchCoverage, StorageError
from petacube.model import Coverage
from petacube.storage import background_loop, layout
from petacube.storage.chunk_grid import Region
from petacube.storage.chunk_reader import read_regions
from petacube.storage.transaction import COMMIT_LOCK_TIMEOUT, Transaction

BRANCH = "main"
# zstd level 1: on Sentinel-2 reflectances levels 1-3 compress within 1-2 % of each
# other, and level 3 encodes about three times slower than level 1.
DEFAULT_COMPRESSION_LEVEL = 1
# Icechunk's in-memory cache of chunk bytes (compressed), shared by all snapshots of a
# store. Fetching a chunk through Icechunk's local storage costs about as much CPU as
# decoding it (thread hand-offs in its async runtime); from the cache it is nearly free,
# which roughly doubles the throughput of reads of recently used tiles.
DEFAULT_CACHE_BYTES = 256 * 1024 * 1024
CREATE_ATTEMPTS = 30

_logs_quietened = False


def _quieten_icechunk_logs() -> None:
    # Icechunk warns on every open that local storage is unsafe for concurrent commits;
    # petacube serialises commits with a file lock, so the warning only adds noise.
    global _logs_quietened
    if not _logs_quietened and "ICECHUNK_LOG" not in os.environ:
        icechunk.set_logs_filter("icechunk=error")
    _logs_quietened = True


@dataclass
class _Snapshot:
    """A read-only view of one snapshot, with the arrays opened on it."""

    snapshot_id: str
    store: Store
    arrays: dict[str, zarr.Array] = field(default_factory=dict)


class TileStore:
    """Coverage tiles in an Icechunk repository at ``path`` (created when missing)."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        threads: int = 0,
        compression_level: int = DEFAULT_COMPRESSION_LEVEL,
        cache_bytes: int = DEFAULT_CACHE_BYTES,
    ):
        """Open (or create) the store; ``threads`` 0 means one per core."""
        _quieten_icechunk_logs()
        self.path = Path(path).resolve()
        self.threads = threads or os.cpu_count() or 1
        self.compression_level = compression_level
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            self._repo = _open_repository(self.path, cache_bytes)
        except (icechunk.IcechunkError, OSError) as exc:
            raise StorageError(f"cannot open the tile store at {self.path}: {exc}") from exc
        # Decode tasks are leaves (they never wait), so multi-step work (band writes,
        # pyramid blocks) runs on a second pool and may wait on decodes without deadlock.
        self.decode_pool = ThreadPoolExecutor(self.threads, thread_name_prefix="petacube-decode")
        self.task_pool = ThreadPoolExecutor(self.threads, thread_name_prefix="petacube-storage")
        self._lock = threading.Lock()
        self._snapshot: _Snapshot | None = None
        self._ensure_root()

    @property
    def repository(self) -> icechunk.Repository:
        return self._repo

    @property
    def commit_lock_path(self) -> Path:
        return self.path / ".commit.lock"

    def close(self) -> None:
        """Stop the thread pools."""
        self.decode_pool.shutdown()
        self.task_pool.shutdown()

    def __enter__(self) -> "TileStore":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ---- writing ---------------------------------------------------------------------

    @contextmanager
    def transaction(self, message: str) -> Iterator[Transaction]:
        """A writable session: committed when the block ends normally, discarded on an exception."""
        tx = Transaction(self, self._repo.writable_session(BRANCH))
        try:
            yield tx
        except BaseException:
            tx.discard()
            raise
        tx.commit(message)

    def _ensure_root(self) -> None:
        # Created once, up front: two processes creating their first coverages at the
        # same time would otherwise both create the parent group and conflict.
        key = f"{layout.ROOT}/zarr.json"
        if background_loop.run(self._current().store.exists(key)):
            return
        with filelock.FileLock(self.commit_lock_path, timeout=COMMIT_LOCK_TIMEOUT):
            session = self._repo.writable_session(BRANCH)
            if not background_loop.run(session.store.exists(key)):
                zarr.open_group(session.store, path=layout.ROOT, mode="a")
                session.commit("petacube tile store")

    # ---- reading ---------------------------------------------------------------------

    def snapshot_id(self) -> str:
        """The id of the last committed snapshot."""
        return self._current().snapshot_id

    def read(self, cov: Coverage, band: str, region: Region, level: int = 0) -> np.ndarray:
        """Cells of ``band`` in ``region`` (storage indices of ``level``) from the last commit.

        Each region entry is a slice or a sequence of indices (e.g. irregular-axis slots,
        in any order, repeats allowed); only tiles intersecting the region are read."""
        return self.read_bands(cov, [band], region, level)[band]

    def read_bands(
        self, cov: Coverage, bands: Sequence[str], region: Region, level: int = 0
    ) -> dict[str, np.ndarray]:
        """Several bands of the same region, decoded together on all cores."""
        snap = self._current()
        arrays = {name: self._array(snap, cov, name, level) for name in bands}
        outs = read_regions(
            snap.store, [(arrays[name], region) for name in bands], self.decode_pool, self.threads
        )
        return dict(zip(bands, outs))

    def has_coverage(self, cov_id: str) -> bool:
        """Whether the last commit holds coverage ``cov_id``."""
        snap = self._current()
        key = f"{layout.coverage_path(cov_id)}/zarr.json"
        return background_loop.run(snap.store.exists(key))

    def size_on_disk(self, cov_id: str) -> int:
        """Bytes of the chunks of ``cov_id`` in the last commit, all levels and bands.

        Icechunk's ``getsize_prefix`` sums the sizes its manifests record for every key
        under the coverage's group (no file is touched); the zarr.json metadata documents
        are subtracted. The result is the compressed bytes this snapshot references, not
        counting chunk versions only older snapshots still hold."""
        if not self.has_coverage(cov_id):
            raise NoSuchCoverage(f"coverage {cov_id} is not in the tile store")
        store = self._current().store
        prefix = layout.coverage_path(cov_id)
        group = zarr.open_group(store, path=prefix, mode="r")
        metadata = [f"{prefix}/zarr.json"] + [f"{prefix}/{name}/zarr.json" for name, _ in group.members(max_depth=None)]
        return background_loop.run(_chunk_bytes(store, prefix, metadata))

    def _current(self) -> _Snapshot:
        """The view of the branch's tip; a new one when another commit moved the branch."""
        try:
            sid = self._repo.lookup_branch(BRANCH)
        except icechunk.IcechunkError as exc:
            raise StorageError(f"cannot read the tile store at {self.path}: {exc}") from exc
        with self._lock:
            if self._snapshot is None or self._snapshot.snapshot_id != sid:
                session = self._repo.readonly_session(snapshot_id=sid)
                self._snapshot = _Snapshot(sid, session.store)
            return self._snapshot

    def _array(self, snap: _Snapshot, cov: Coverage, band: str, level: int) -> zarr.Array:
        name = cov.band(band).name  # InvalidParameterValue for a band the coverage lacks
        layout.level_factors(cov, level)  # InvalidParameterValue for a missing level
        path = layout.band_path(cov.id, name, level)
        with self._lock:
            cached = snap.arrays.get(path)
        if cached is not None:
            return cached
        try:
            array = zarr.open_array(snap.store, path=path, mode="r")
        except (zarr.errors.NodeNotFoundError, FileNotFoundError, KeyError):
            if not self.has_coverage(cov.id):
                raise NoSuchCoverage(f"coverage {cov.id} has no tiles in the tile store") from None
            where = "" if level == 0 else f" at pyramid level {level}"
            raise InvalidParameterValue(f"coverage {cov.id} has no stored band '{name}'{where}") from None
        with self._lock:
            snap.arrays[path] = array
        return array


def _open_repository(path: Path, cache_bytes: int) -> icechunk.Repository:
    config = icechunk.RepositoryConfig(caching=icechunk.CachingConfig(num_bytes_chunks=cache_bytes))
    storage = icechunk.local_filesystem_storage(str(path))
    # Icechunk creates repositories only in empty directories, so no lock file can guard
    # the creation; when two processes create the same new store at once, the loser
    # fails and opens what the winner made (once it is complete).
    for attempt in range(CREATE_ATTEMPTS):
        try:
            return icechunk.Repository.open_or_create(storage, config=config)
        except icechunk.IcechunkError:
            if attempt == CREATE_ATTEMPTS - 1:
                raise
            time.sleep(0.1)
    raise AssertionError("unreachable")


async def _chunk_bytes(store: Store, prefix: str, metadata_keys: list[str]) -> int:
    total = await store.getsize_prefix(prefix)
    return total - sum(await asyncio.gather(*(store.getsize(k) for k in metadata_keys)))
