"""Progress for the long commands, on a terminal only.

Progress goes to stderr and only when stderr is a terminal: piped output, CI logs and the
tests see exactly what they saw before, and --json / --format csv output is never touched.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Protocol

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


class Done(Protocol):
    def __call__(self, n: int, total: int | None = None, /) -> None: ...


def shown() -> bool:
    """Whether progress is drawn: stderr is a terminal (Rich also honours TERM=dumb and NO_COLOR)."""
    return console.is_terminal and not console.is_dumb_terminal


@contextmanager
def counting(description: str, total: int | None = None, *, bar: bool = False) -> Iterator[Done]:
    """A bar (with `total`, or `bar` when the total comes with the first `done`) or a running
    count; yields `done(n, total=None)`, to call with how many so far (and the total, once known)."""
    if not shown():
        yield lambda _n, _total=None: None
        return
    columns = [SpinnerColumn(), TextColumn("{task.description}")]
    if total is not None or bar:
        columns += [BarColumn(), MofNCompleteColumn(), TimeRemainingColumn()]
    else:
        columns += [TextColumn("{task.completed}"), TimeElapsedColumn()]
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task(description, total=total)
        yield lambda n, of=None: progress.update(task, completed=n, **({"total": of} if of is not None else {}))


@contextmanager
def following(description: str, poll: Callable[[], tuple[int, int] | None], every: float = 0.3) -> Iterator[None]:
    """A bar for work this thread does without reporting (an embedded send): another thread asks
    `poll()` for (done, total) every `every` seconds. `poll` returns None while there is nothing
    to show yet, and must not raise for a passing reason (a locked database): it is only a bar."""
    if not shown():
        yield
        return
    stop = threading.Event()
    columns = [SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn()]
    with Progress(*columns, TimeRemainingColumn(), console=console, transient=True) as progress:
        task = progress.add_task(description, total=None)

        def follow() -> None:
            while not stop.wait(every):
                got = poll()
                if got is not None:
                    progress.update(task, completed=got[0], total=got[1] or None)

        thread = threading.Thread(target=follow, name="progress", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()


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
