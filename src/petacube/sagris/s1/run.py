"""Sentinel-1 batches: scan an input folder for S1 products and run them through the shared batch machinery
(claims, work folders, atomic publishing, `_broken/` for bad products) of `petacube.sagris.batch`."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from petacube.sagris.batch.errors import UnknownProductType
from petacube.sagris.batch.runner import BatchResult, run_batch
from petacube.sagris.batch.scan import Job, outputs_done
from petacube.sagris.s1.product import parse_name


@dataclass
class S1Job(Job):
    @property
    def key(self) -> str:
        """Claim key: one per acquisition (satellite, start, datatake), whatever the file's suffix."""
        if self.name is None:
            return self.path.name
        return f"S1_{self.name.satellite}_{self.name.start}_{self.name.datatake}"


def scan_s1(in_dir: Path, out_dir: Path, expected, *, settle_s: float = 0.0) -> list[S1Job]:
    """Jobs for every ``S1*.zip`` / ``S1*.SAFE`` in ``in_dir``; products whose outputs exist are skipped."""
    jobs, now = [], time.time()
    for p in sorted(in_dir.iterdir()):
        if not p.name.startswith("S1") or not (p.suffix.lower() == ".zip" or (p.suffix.upper() == ".SAFE" and p.is_dir())):
            continue
        if settle_s and now - p.stat().st_mtime < settle_s:
            continue
        try:
            name = parse_name(p)
        except UnknownProductType as exc:
            jobs.append(S1Job(p, None, "fail", str(exc)))
            continue
        done = outputs_done(name, out_dir, expected(name))
        jobs.append(S1Job(p, name, "skip" if done else "process", "outputs already in the output folder" if done else ""))
    return jobs


def run_s1_batch(in_dir: Path, out_dir: Path, process, options, expected, *, work_dir: Path | None = None,
                 workers: int = 1, scheduler: str | None = None, progress=None, settle_s: float = 0.0) -> BatchResult:
    """`petacube.sagris.batch.runner.run_batch` with the Sentinel-1 scan."""
    return run_batch(in_dir, out_dir, process, options, expected, work_dir=work_dir, workers=workers,
                     scheduler=scheduler, progress=progress, settle_s=settle_s, scanner=scan_s1, label="s1")
