"""Progress bar for imports: files done, rate and time left (rich)."""

from __future__ import annotations

import sys

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)


class ImportProgress:
    """A progress bar over the files of one import (silent when disabled)."""

    def __init__(self, total: int, coverage_id: str, enabled: bool = True):
        self.enabled = enabled
        self.total = total
        self._progress = None
        self._task = None
        self.coverage_id = coverage_id

    def __enter__(self) -> "ImportProgress":
        if self.enabled:
            self._progress = Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("files"),
                TextColumn("{task.fields[rate]}"),
                TimeElapsedColumn(),
                TextColumn("left"),
                TimeRemainingColumn(),
                TextColumn("{task.fields[current]}"),
                console=Console(file=sys.stderr),
                transient=False,
            )
            self._progress.__enter__()
            self._task = self._progress.add_task(self.coverage_id, total=self.total, rate="", current="")
        return self

    def start(self, name: str) -> None:
        if self._progress is not None:
            self._progress.update(self._task, current=name)

    def advance(self) -> None:
        if self._progress is None:
            return
        self._progress.advance(self._task)
        task = self._progress.tasks[0]
        if task.elapsed:
            self._progress.update(self._task, rate=f"{task.completed / task.elapsed:.2f} files/s")

    def __exit__(self, *exc) -> None:
        if self._progress is not None:
            self._progress.update(self._task, current="")
            self._progress.__exit__(*exc)
