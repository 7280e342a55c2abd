"""Progress for the long commands, on a terminal only.

Progress goes to stderr and only when stderr is a terminal: piped output, CI logs and the
tests see exactly what they saw before, and --json / --format csv output is never touched.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

console = Console(stderr=True)


def shown() -> bool:
    """Whether progress is drawn: stderr is a terminal (Rich also honours TERM=dumb and NO_COLOR)."""
    return console.is_terminal and not console.is_dumb_terminal


@contextmanager
def counting(description: str, total: int | None = None) -> Iterator[Callable[[int], None]]:
    """A bar (with `total`) or a running count; yields `done(n)`, to call with how many so far."""
    if not shown():
        yield lambda _n: None
        return
    columns = [SpinnerColumn(), TextColumn("{task.description}")]
    if total is not None:
        columns += [BarColumn(), MofNCompleteColumn(), TimeRemainingColumn()]
    else:
        columns += [TextColumn("{task.completed}"), TimeElapsedColumn()]
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task(description, total=total)
        yield lambda n: progress.update(task, completed=n)


@contextmanager
def working(description: str) -> Iterator[None]:
    """A spinner with the time elapsed, for work whose size is not known in advance."""
    if not shown():
        yield
        return
    columns = [SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn()]
    with Progress(*columns, console=console, transient=True) as progress:
        progress.add_task(description, total=None)
        yield
