"""A CPU-time deadline for one render, enforced in whatever thread the render runs.

A template is a program: two nested loops over a long text run for hours without writing a
character, so output and size bounds alone cannot stop it. Each render registers its thread
here; one watchdog thread reads that thread's CPU clock and, past the budget, raises
``RenderTimeout`` inside it with ``PyThreadState_SetAsyncExc``. The exception lands between two
bytecodes of the template's own code, so its traceback carries the template line that was
running. CPU time, not wall time, is the measure: a render that waits for the GIL on a busy
machine is not the template's fault; a wall-clock bound many times larger backs it up.

An asynchronous exception must never reach code after the render. ``deadline`` marks its
record as leaving before anything else, waits out a firing in progress under the lock, and
clears a pending exception; one that arrives while it does so is absorbed there.
"""

from __future__ import annotations

import ctypes
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from campaign.locale_filters import TemplateLimit

CPU_SECONDS = 1.0
WALL_SECONDS = 10.0
_POLL = 0.02
_REFIRE = 0.2  # a template that swallowed the exception (inside a __del__, say) gets it again


class RenderTimeout(TemplateLimit):
    """A render ran past its CPU budget. Raised asynchronously, so it takes no argument."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(
            message
            or f"template took more than {CPU_SECONDS:g} s of CPU time to render "
            "(a loop over a long text or list, or a macro calling itself many times?)"
        )


@dataclass(eq=False)
class _Record:
    ident: int
    clock: int | None
    cpu_limit: float
    wall_limit: float
    label: str
    expired: bool = False
    fired_at: float = 0.0
    leaving: bool = False


_lock = threading.Lock()
_wake = threading.Condition(_lock)
_active: dict[int, list[_Record]] = {}
_watchdog: threading.Thread | None = None
_idle = False  # renders are short and many: only the first after a quiet spell wakes the watchdog
_started = 0
_local = threading.local()


def _set_async_exc(ident: int, exc: type[BaseException] | None) -> None:
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(ident), ctypes.py_object(exc) if exc else None)


def _cpu(clock: int | None) -> float:
    if clock is None:
        return 0.0
    try:
        return time.clock_gettime(clock)
    except OSError:  # the thread is gone
        return 0.0


def _watch() -> None:
    global _idle
    seen = -1
    with _lock:
        while True:
            if not _active and seen == _started:  # no render for a whole poll: sleep until one starts
                _idle = True
                _wake.wait()
                _idle = False
            seen = _started
            now = time.monotonic()
            for records in _active.values():
                for record in records:
                    over = now > record.wall_limit or _cpu(record.clock) > record.cpu_limit
                    if over and not record.leaving and now - record.fired_at > _REFIRE:
                        record.expired = True
                        record.fired_at = now
                        _set_async_exc(record.ident, RenderTimeout)
            _wake.wait(_POLL)


def _ensure_watchdog() -> None:
    global _watchdog
    if _watchdog is None or not _watchdog.is_alive():
        _watchdog = threading.Thread(target=_watch, name="wavecast-render-deadline", daemon=True)
        _watchdog.start()


def check() -> None:
    """Raise RenderTimeout if the current thread's render is past its deadline.

    Called by the sandbox at calls and operators, so the deadline also holds where an
    asynchronous exception was swallowed.
    """
    records: list[_Record] | None = getattr(_local, "records", None)
    if records and any(r.expired for r in records):
        raise RenderTimeout()


def rendering(ident: int) -> str | None:
    """The label of the render the thread `ident` is running now, if any (for progress notes)."""
    with _lock:
        records = _active.get(ident)
        return records[-1].label if records else None


@contextmanager
def deadline(label: str = "", cpu_seconds: float | None = None) -> Iterator[None]:
    """Bound the block's CPU time (``CPU_SECONDS`` by default); past it, RenderTimeout is raised in it."""
    ident = threading.get_ident()
    try:
        clock: int | None = time.pthread_getcpuclockid(ident)
    except (AttributeError, OSError):  # not on every platform: the wall-clock bound still holds
        clock = None
    global _started
    budget = CPU_SECONDS if cpu_seconds is None else cpu_seconds
    record = _Record(ident, clock, _cpu(clock) + budget, time.monotonic() + budget * WALL_SECONDS / CPU_SECONDS, label)
    with _lock:
        _ensure_watchdog()
        _active.setdefault(ident, []).append(record)
        _local.records = _active[ident]
        _started += 1
        if _idle:
            _wake.notify()
    try:
        yield
    finally:
        record.leaving = True  # first: the watchdog fires at this record no more
        try:
            _settle(record)
        except RenderTimeout:
            try:
                _settle(record)
            except RenderTimeout:
                _settle(record)


def _settle(record: _Record) -> None:
    """Forget the record and clear an exception fired at it but not yet delivered."""
    with _lock:
        records = _active.get(record.ident, [])
        if record in records:
            records.remove(record)
        if not records:
            _active.pop(record.ident, None)
            _local.records = None
        if record.fired_at:
            _set_async_exc(record.ident, None)
