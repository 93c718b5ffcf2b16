"""A batch run: work folder, claims, parallel workers, atomic publishing, summary.

Per batch a folder ``<work>/batch-<time>-<host>-<pid>/`` holds every product's
intermediate files; it is deleted when the batch succeeds and kept, with ``batch.log``,
when any product failed. Products that fail with a `BadProduct` error (truncated zip,
checksum, missing band or metadata, no valid pixel) and unknown product types are moved to ``<in>/_broken/`` with a
``.reason.txt`` beside them, so a watched folder does not retry them forever.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import time
import traceback
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from petacube.errors import PetacubeError
from petacube.sagris.batch.errors import BadProduct, SagrisError
from petacube.sagris.batch.publish import claim, publish
from petacube.sagris.batch.scan import (
    BROKEN_DIR,
    Job,
    l2b_exists_for,
    outputs_done,
    scan,
)

log = logging.getLogger("petacube.sagris")


@dataclass
class Outcome:
    """What happened to one product."""

    product: str
    status: str  # done, skipped, failed
    reason: str = ""
    outputs: list[str] = field(default_factory=list)
    seconds: float = 0.0


@dataclass
class BatchResult:
    outcomes: list[Outcome]
    batch_dir: Path | None  # kept only on failure

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == "failed"]

    def count(self, status: str) -> int:
        return sum(o.status == status for o in self.outcomes)


ProcessFn = Callable[[Path, Path, object], list[Path]]  # (product path, work folder, options) -> files


def run_one(job: Job, out_dir: Path, batch_dir: Path, process: ProcessFn, options, expected) -> Outcome:
    """Claim, process, publish one product; never raises for a product's own problems."""
    t0 = time.monotonic()
    name = job.path.name
    with claim(job.key, out_dir) as mine:
        if not mine:
            return Outcome(name, "skipped", "another process is working on it")
        # Decided again inside the claim: the previous owner may have finished meanwhile.
        if job.name and outputs_done(job.name, out_dir, expected(job.name)):
            return Outcome(name, "skipped", "outputs already in the output folder")
        if job.name and job.name.level == "L1C" and l2b_exists_for(job.name, out_dir):
            return Outcome(name, "skipped", "L2B outputs of the same datatake and tile exist")
        if not job.path.exists():
            return Outcome(name, "skipped", "input disappeared (set aside by another process?)")
        work = batch_dir / job.path.stem
        work.mkdir(parents=True, exist_ok=True)
        try:
            files = process(job.path, work, options)
            published = publish(files, out_dir, exists="skip")
        except BadProduct as exc:
            _set_aside(job.path, str(exc))
            return Outcome(name, "failed", str(exc), seconds=time.monotonic() - t0)
        except PetacubeError as exc:
            return Outcome(name, "failed", str(exc), seconds=time.monotonic() - t0)
        except Exception as exc:  # noqa: BLE001  # a bug or an environment problem: keep the work folder to look at
            (work / "traceback.txt").write_text(traceback.format_exc())
            return Outcome(name, "failed", f"internal error {type(exc).__name__}: {exc} (details in {work})",
                           seconds=time.monotonic() - t0)
        shutil.rmtree(work, ignore_errors=True)
        return Outcome(name, "done", "", [p.name for p in published], time.monotonic() - t0)


def _set_aside(path: Path, reason: str) -> None:
    broken = path.parent / BROKEN_DIR
    try:
        broken.mkdir(exist_ok=True)
        target = broken / path.name
        if not target.exists():
            os.rename(path, target)
        (broken / (path.name + ".reason.txt")).write_text(reason + "\n")
    except OSError as exc:  # a read-only input folder: report, do not fail the batch over it
        log.warning("could not set %s aside: %s", path, exc)


def run_batch(in_dir: Path, out_dir: Path, process: ProcessFn, options, expected, *, work_dir: Path | None = None,
              workers: int = 1, scheduler: str | None = None, progress=None, settle_s: float = 0.0,
              scanner=scan, label: str = "") -> BatchResult:
    """Scan ``in_dir`` and run every product to process, in parallel when asked; return the outcomes.

    ``progress(total)`` may return an object with ``advance(outcome)``; the CLI passes a rich bar.
    ``scanner`` finds the jobs (the Sentinel-2 scan by default; Sentinel-1 passes its own) and
    ``label`` names the batch folder (``batch-<label>-<time>...``).
    """
    in_dir, out_dir = Path(in_dir), Path(out_dir)
    if not in_dir.is_dir():
        raise SagrisError(f"input folder {in_dir} does not exist or is not a folder")
    out_dir.mkdir(parents=True, exist_ok=True)
    jobs = scanner(in_dir, out_dir, expected, settle_s=settle_s)
    for j in jobs:
        if j.action == "fail":  # an unknown product type: set aside so a re-run does not report it again
            _set_aside(j.path, j.reason)
    outcomes = [Outcome(j.path.name, "skipped" if j.action == "skip" else "failed", j.reason)
                for j in jobs if j.action != "process"]
    todo = [j for j in jobs if j.action == "process"]
    return run_in_work_folder(
        Path(work_dir) if work_dir else out_dir / ".sagris-work", f"batch-{label}" if label else "batch", outcomes,
        len(todo), lambda batch_dir: _execute(todo, out_dir, batch_dir, process, options, expected, workers, scheduler),
        progress)


def run_in_work_folder(work_root: Path, name: str, outcomes: list[Outcome], total: int,
                       results: Callable[[Path], Iterable[Outcome]], progress=None) -> BatchResult:
    """Collect ``results(batch_dir)`` (``total`` outcomes) after ``outcomes`` in a fresh work folder
    ``work_root/<name>-<time>-<host>-<pid>``, advancing ``progress(total)``'s bar: the folder is
    wiped when nothing failed, else kept with a batch.log of every outcome."""
    batch_dir = work_root / f"{name}-{time.strftime('%Y%m%dT%H%M%S')}-{socket.gethostname()}-{os.getpid()}"
    batch_dir.mkdir(parents=True, exist_ok=True)
    bar = progress(total) if progress and total else None
    try:
        for o in results(batch_dir):
            outcomes.append(o)
            if bar is not None:
                bar.advance(o)
    finally:
        if bar is not None:
            bar.close()
    if any(o.status == "failed" for o in outcomes):
        with open(batch_dir / "batch.log", "a") as fh:
            for o in outcomes:
                fh.write(f"{o.status}\t{o.product}\t{o.reason}\n")
        return BatchResult(outcomes, batch_dir)
    shutil.rmtree(batch_dir, ignore_errors=True)
    return BatchResult(outcomes, None)


def _execute(todo, out_dir, batch_dir, process, options, expected, workers, scheduler):
    if scheduler:
        from distributed import Client
        from distributed import as_completed as dask_completed

        with Client(scheduler) as client:
            futures = [client.submit(run_one, j, out_dir, batch_dir, process, options, expected, pure=False)
                       for j in todo]
            for fut in dask_completed(futures):
                yield fut.result()
        return
    if workers <= 1 or len(todo) <= 1:
        for j in todo:
            yield run_one(j, out_dir, batch_dir, process, options, expected)
        return
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(run_one, j, out_dir, batch_dir, process, options, expected) for j in todo]
        for fut in as_completed(futures):
            yield fut.result()
