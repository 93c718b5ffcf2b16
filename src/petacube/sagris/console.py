"""What every SAGRIS command shows and how it ends: user errors as one line (exit 2), a rich
progress bar per batch, the end-of-batch summary table, and the --watch loop."""

from __future__ import annotations

import functools
import sys
import time
from collections.abc import Callable

import click

from petacube.errors import PetacubeError


def user_errors(fn):
    """PetacubeErrors become one line on stderr and exit status 2; Ctrl-C says how to resume."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except PetacubeError as exc:
            click.echo(f"error [{exc.code}]: {exc.message}", err=True)
            sys.exit(2)
        except KeyboardInterrupt:
            click.echo("interrupted; re-run the same command to resume (finished outputs are kept)", err=True)
            sys.exit(130)

    return wrapper


class ProgressBar:
    """A rich progress bar over one batch (on stderr); ``advance(outcome)`` after each item."""

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


def progress_bars(label: str, enabled: bool = True) -> Callable[[int], ProgressBar] | None:
    """The ``progress`` argument of the batch runners: a bar labelled ``label`` per batch, or None."""
    return (lambda total: ProgressBar(total, label)) if enabled else None


def print_summary(result, title: str, *, quiet_when_idle: bool = False) -> None:
    """The end-of-batch table (done, skipped, failed with reason) and the totals."""
    from rich.console import Console
    from rich.table import Table

    if quiet_when_idle and not any(o.status in ("done", "failed") for o in result.outcomes):
        return
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
    for o in result.failed:  # plain lines too: greppable in logs, not wrapped by the table
        click.echo(f"failed {o.product}: {o.reason}", err=True)
    console.print(f"done {result.count('done')}, skipped {result.count('skipped')}, failed {result.count('failed')}"
                  + (f"; work folder kept with batch.log: {result.batch_dir}" if result.batch_dir else ""))


def run_batches(run_once: Callable[[], object], title: str, *, watch: bool, interval: float,
                max_cycles: int | None) -> None:
    """Run one batch (or, with ``watch``, keep scanning every ``interval`` seconds), print each
    summary, and exit 1 when any product failed, else 0."""
    cycles, any_failed = 0, False
    while True:
        result = run_once()
        print_summary(result, title, quiet_when_idle=watch)
        any_failed |= bool(result.failed)
        cycles += 1
        if not watch or (max_cycles is not None and cycles >= max_cycles):
            break
        time.sleep(interval)
    sys.exit(1 if any_failed else 0)
