"""Progress bar and end-of-batch summary for the aggregator and the masks (rich)."""

from __future__ import annotations


class ProgressBar:
    """A rich progress bar over one batch's outputs; ``advance(outcome)`` after each."""

    def __init__(self, total: int, label: str):
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        self.progress = Progress(TextColumn(f"[bold]{label}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                                 TextColumn("{task.description}"), console=Console(stderr=True))
        self.progress.start()
        self.task = self.progress.add_task("", total=total)

    def advance(self, outcome) -> None:
        self.progress.update(self.task, advance=1, description=f"{outcome.status}: {outcome.product[:60]}")

    def close(self) -> None:
        self.progress.stop()


def print_summary(result, title: str) -> None:
    """The table of outcomes (done, skipped, failed with reason) and the totals."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    table.add_column("product", overflow="fold")
    table.add_column("status")
    table.add_column("reason / outputs", overflow="fold")
    colours = {"done": "green", "skipped": "yellow", "failed": "red"}
    for o in result.outcomes:
        detail = o.reason or (f"{len(o.outputs)} files in {o.seconds:.1f} s" if o.status == "done" else "")
        table.add_row(o.product, f"[{colours.get(o.status, 'white')}]{o.status}", detail)
    console = Console(width=160)
    console.print(table)
    console.print(f"done {result.count('done')}, skipped {result.count('skipped')}, failed {result.count('failed')}"
                  + (f"; work folder kept with batch.log: {result.batch_dir}" if result.batch_dir else ""))
