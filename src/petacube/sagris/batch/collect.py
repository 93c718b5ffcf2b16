"""``petacube sagris collect``: gather finished outputs of several output folders into one."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from petacube.sagris.batch.errors import SagrisError
from petacube.sagris.batch.publish import locked, publish


def collect(sources: Sequence[Path], dest: Path) -> tuple[list[Path], list[Path]]:
    """Move every finished output (non-hidden regular file) of ``sources`` into ``dest``; (moved, left).

    Each source folder is read while holding its lock, so a product being published there
    is taken whole or not at all; files whose name already exists in ``dest`` are left
    where they are (never overwritten) and returned as ``left``.
    """
    dest = Path(dest)
    moved: list[Path] = []
    left: list[Path] = []
    for src in sources:
        src = Path(src)
        if not src.is_dir():
            raise SagrisError(f"collect: source folder {src} does not exist")
        if src.resolve() == dest.resolve():
            raise SagrisError(f"collect: source and destination are the same folder ({src})")
        with locked(src):
            files = sorted(p for p in src.iterdir() if p.is_file() and not p.name.startswith("."))
            done = publish(files, dest, exists="skip")
        moved += done
        names = {p.name for p in done}
        left += [p for p in files if p.name not in names]
    return moved, left
