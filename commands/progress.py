"""A progress bar for long work (import, rebuild, verify, export): on a terminal only.

On a pipe, in a file, or with --json nothing is drawn, so what scripts read stays clean.
Work reports through a plain callback, ``advance(done)``, so ``ledger/`` and
``projections/`` know nothing of Rich.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

from ledger.text import safe

if TYPE_CHECKING:
    from rich.progress import TaskID

Advance = Callable[[int], None]


def shown(*, as_json: bool = False) -> bool:
    """A bar is drawn only when standard error is a terminal, and never for --json."""
    return not as_json and sys.stderr.isatty()


def _ignore(done: int) -> None:
    """No terminal: nothing to draw."""


@contextmanager
def bar(description: str, total: int | None, *, as_json: bool = False) -> Iterator[Advance]:
    """Yield ``advance(done)``: ``done`` of ``total`` finished so far (count, rate, time left on the bar)."""
    with bars((description,), total, as_json=as_json) as (advance,):
        yield advance


@contextmanager
def bars(descriptions: Sequence[str], total: int | None, *, as_json: bool = False) -> Iterator[tuple[Advance, ...]]:
    """``bar`` for work done in one pass that has several parts (one bar each, one under the other):
    yield one ``advance`` per description."""
    if not shown(as_json=as_json):
        yield tuple(_ignore for _ in descriptions)
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
        def advancing(task: TaskID) -> Advance:
            def advance(done: int) -> None:
                progress.update(task, completed=done)
                speed = next(t.speed for t in progress.tasks if t.id == task)
                progress.update(task, rate=f"{speed:,.0f}/s" if speed else "")

            return advance

        yield tuple(advancing(progress.add_task(safe(d), total=total, rate="")) for d in descriptions)
