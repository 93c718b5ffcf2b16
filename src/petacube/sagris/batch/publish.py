"""Put finished outputs into a shared output folder safely, and claim products.

Two guarantees for every folder several processors (or a collector) share:

* **publish**: a product's files appear in the output folder all together or not at
  all, under their final names only, never overwriting anything. Files are written
  complete in a work folder first; `publish` then, holding ``<out>/.sagris.lock``,
  (1) copies/renames each into the output folder under a hidden staging name,
  (2) writes a small journal listing staging→final names, (3) renames every staged
  file to its final name, (4) deletes the journal. A process killed in step 1 leaves
  only hidden staging files, which the next publisher deletes; one killed in step 3
  leaves the journal, which the next publisher rolls forward. Readers that list the
  folder while holding the same lock (``locked(out_dir)``) therefore never see a
  partial product.
* **claim**: one process at a time owns a product key (a kernel ``flock`` lock on
  ``<out>/.sagris-claims/<key>.claim``). The kernel drops the lock when the owner
  dies, even by SIGKILL, so a stale claim file never blocks anybody: the file's
  *existence* means nothing, only the lock on it does.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import socket
from collections.abc import Iterator, Sequence
from pathlib import Path

import filelock

from petacube.sagris.batch.errors import OutputExists, SagrisError

LOCK_NAME = ".sagris.lock"
CLAIM_DIR = ".sagris-claims"
JOURNAL_NAME = ".sagris-publish.journal"
STAGING_PREFIX = ".sagris-staging-"
# How long a publisher waits for another one to finish moving its files.
LOCK_TIMEOUT_S = 600.0


@contextlib.contextmanager
def locked(out_dir: Path, timeout: float = LOCK_TIMEOUT_S) -> Iterator[Path]:
    """Hold the output folder's lock (and repair an interrupted publish) while the block runs."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    lock = filelock.FileLock(str(out_dir / LOCK_NAME), timeout=timeout)
    try:
        lock.acquire()
    except filelock.Timeout as exc:
        raise SagrisError(f"output folder {out_dir} stayed locked for {timeout:.0f} s by another process; "
                          f"is a processor hung? (lock file {out_dir / LOCK_NAME})") from exc
    try:
        _recover(out_dir)
        yield out_dir
    finally:
        lock.release()


def publish(files: Sequence[Path], out_dir: Path, *, exists: str = "raise") -> list[Path]:
    """Move complete files into ``out_dir`` atomically as one set; return their final paths.

    ``exists="raise"`` (default): if any final name already exists nothing is moved and
    `OutputExists` is raised. ``exists="skip"``: files whose final name exists are left
    where they are and the others are published; only the published paths are returned.
    Source files must be complete; they are moved (renamed when on the same file system,
    else copied then removed).
    """
    if exists not in ("raise", "skip"):
        raise ValueError(f"exists must be 'raise' or 'skip', not {exists!r}")
    files = [Path(f) for f in files]
    names = [f.name for f in files]
    if len(set(names)) != len(names):
        raise SagrisError(f"publish: two files share one name in {names}")
    for f in files:
        if not f.is_file():
            raise SagrisError(f"publish: {f} does not exist or is not a file")
    out_dir = Path(out_dir)
    with locked(out_dir):
        present = [n for n in names if (out_dir / n).exists()]
        if present and exists == "raise":
            raise OutputExists(f"not overwriting existing output(s) in {out_dir}: {', '.join(sorted(present))}; "
                               "delete them first to re-process")
        todo = [f for f in files if f.name not in present]
        if not todo:
            return []
        token = f"{socket.gethostname()}-{os.getpid()}"
        staged: list[tuple[str, str]] = []
        for f in todo:  # step 1: bring each file onto the output file system under a hidden name
            stage = f"{STAGING_PREFIX}{token}-{f.name}"
            _move_into(f, out_dir / stage)
            staged.append((stage, f.name))
        journal = out_dir / JOURNAL_NAME
        tmp = out_dir / (JOURNAL_NAME + ".tmp")
        tmp.write_text(json.dumps(staged))  # step 2: the intent, made visible in one rename
        _fsync_file(tmp)
        os.replace(tmp, journal)
        _roll_forward(out_dir, staged)  # step 3
        journal.unlink()  # step 4
        _fsync_dir(out_dir)
        return [out_dir / final for _, final in staged]


@contextlib.contextmanager
def claim(product_key: str, out_dir: Path) -> Iterator[bool]:
    """Try to own ``product_key`` in ``out_dir``; yields True if this process owns it, else False.

    Never blocks: a product another live process is working on yields False and the
    caller should skip it. Use as ``with claim(key, out) as mine: if mine: ...``. The
    caller should still check, inside the claim, whether the outputs already exist
    (the previous owner may have finished).
    """
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", product_key)
    if not safe:
        raise SagrisError(f"claim: empty product key {product_key!r}")
    claims = Path(out_dir) / CLAIM_DIR
    claims.mkdir(parents=True, exist_ok=True)
    path = claims / f"{safe}.claim"
    lock = filelock.UnixFileLock(str(path), timeout=0) if os.name == "posix" else filelock.FileLock(str(path), timeout=0)
    try:
        lock.acquire()
    except filelock.Timeout:
        yield False
        return
    try:
        # who holds it, for an operator looking at a busy folder; informational only
        info = path.with_suffix(".owner")
        info.write_text(f"{socket.gethostname()} pid {os.getpid()}\n")
        yield True
    finally:
        with contextlib.suppress(OSError):
            path.with_suffix(".owner").unlink()
        lock.release()


def _move_into(src: Path, dst: Path) -> None:
    try:
        os.rename(src, dst)
    except OSError:  # another file system: copy, flush, then drop the source
        shutil.copyfile(src, dst)
        _fsync_file(dst)
        src.unlink()


def _roll_forward(out_dir: Path, staged: list[tuple[str, str]]) -> None:
    for stage, final in staged:
        s, f = out_dir / stage, out_dir / final
        if s.exists():
            if f.exists():  # never overwrite: an output published meanwhile wins, the copy goes
                s.unlink()
            else:
                os.rename(s, f)


def _recover(out_dir: Path) -> None:
    """Finish a publish interrupted after its journal; drop staging files of one interrupted before."""
    journal = out_dir / JOURNAL_NAME
    if journal.exists():
        try:
            staged = [tuple(x) for x in json.loads(journal.read_text())]
        except (ValueError, TypeError):
            staged = []
        _roll_forward(out_dir, staged)
        journal.unlink()
    (out_dir / (JOURNAL_NAME + ".tmp")).unlink(missing_ok=True)
    # We hold the lock, so no live publisher is staging now: every staging file is debris.
    for p in out_dir.glob(STAGING_PREFIX + "*"):
        p.unlink(missing_ok=True)


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
