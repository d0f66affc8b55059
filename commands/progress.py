"""A progress bar for long work (import, rebuild, verify, export): on a terminal only.

On a pipe, in a file, or with --json nothing is drawn, so what scripts read stays clean.
Work reports through a plain callback, ``advance(done)``, so ``ledger/`` and
``projections/`` know nothing of Rich.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from ledger.text import safe

Advance = Callable[[int], None]


def shown(*, as_json: bool = False) -> bool:
    """A bar is drawn only when standard error is a terminal, and never for --json."""
    return not as_json and sys.stderr.isatty()


def _ignore(done: int) -> None:
    """No terminal: nothing to draw."""


@contextmanager
def bar(description: str, total: int | None, *, as_json: bool = False) -> Iterator[Advance]:
    """Yield ``advance(done)``: ``done`` of ``total`` finished so far (count, rate, time left on the bar)."""
    if not shown(as_json=as_json):
        yield _ignore
        return
    from rich.console import Console  # only when a bar is drawn
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TaskProgressColumn,
        TextColumn,
        TimeRemainingColumn,
    )

    console = Console(file=sys.stderr, force_terminal=True, highlight=False, emoji=False, markup=False)
    columns = (TextColumn("{task.description}", markup=False), BarColumn(), MofNCompleteColumn(),
               TaskProgressColumn(), TextColumn("{task.fields[rate]}", markup=False), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=False, redirect_stdout=False) as progress:
        task = progress.add_task(safe(description), total=total, rate="")

        def advance(done: int) -> None:
            progress.update(task, completed=done)
            speed = progress.tasks[0].speed
            progress.update(task, rate=f"{speed:,.0f}/s" if speed else "")

        yield advance
