"""Find Sentinel-2 products in an input folder and decide, per product, process or skip."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from petacube.sagris.batch.errors import UnknownProductType
from petacube.sagris.s2.product import ProductName, parse_name

BROKEN_DIR = "_broken"


@dataclass
class Job:
    """One input product and what the scan decided for it."""

    path: Path
    name: ProductName | None
    action: str  # "process", "skip", "fail"
    reason: str = ""

    @property
    def key(self) -> str:
        """Claim key: an L1C and the L2A made from it share one, so they are never processed twice."""
        if self.name is None:
            return self.path.name
        sat, sensing, orbit, tile = self.name.datatake_tile
        return f"S2_{sat}_{sensing}_R{orbit:03d}_T{tile}"


def is_candidate(p: Path) -> bool:
    """A folder entry that claims to be a Sentinel product (by its name and suffix)."""
    return p.name.startswith("S2") and (p.suffix.lower() == ".zip" or (p.suffix.upper() == ".SAFE" and p.is_dir()))


def outputs_done(name: ProductName, out_dir: Path, expected: list[str]) -> bool:
    return all((out_dir / n).exists() for n in expected)


def l2b_exists_for(name: ProductName, out_dir: Path) -> bool:
    """Is there any L2B output in ``out_dir`` for this product's datatake and tile (any discriminator)?"""
    sat, sensing, orbit, tile = name.datatake_tile
    return any(out_dir.glob(f"{sat}_MSIL2B_{sensing}_N*_R{orbit:03d}_T{tile}_*_10m.zip"))


def scan(in_dir: Path, out_dir: Path, expected_outputs, *, settle_s: float = 0.0) -> list[Job]:
    """Jobs for every product in ``in_dir``: L2A first, then L1C; skips decided from the input and output folders.

    ``expected_outputs(name)`` gives the output file names of a product. Entries modified
    less than ``settle_s`` seconds ago are left for a later scan (a copy may still be running).
    """
    jobs: list[Job] = []
    now = time.time()
    for p in sorted(in_dir.iterdir()):
        if not is_candidate(p):
            continue
        if settle_s and now - p.stat().st_mtime < settle_s:
            continue
        try:
            jobs.append(Job(p, parse_name(p), "process"))
        except UnknownProductType as exc:
            jobs.append(Job(p, None, "fail", str(exc)))
    l2a_keys = {j.name.datatake_tile for j in jobs if j.name and j.name.level == "L2A"}
    for j in jobs:
        if j.name is None:
            continue
        if outputs_done(j.name, out_dir, expected_outputs(j.name)):
            j.action, j.reason = "skip", "outputs already in the output folder"
        elif j.name.level == "L1C" and j.name.datatake_tile in l2a_keys:
            j.action, j.reason = "skip", "its L2A (same datatake and tile) is in the input"
        elif j.name.level == "L1C" and l2b_exists_for(j.name, out_dir):
            j.action, j.reason = "skip", "L2B outputs of the same datatake and tile exist"
    jobs.sort(key=lambda j: (j.name is None, j.name.level != "L2A" if j.name else True, j.path.name))
    return jobs
