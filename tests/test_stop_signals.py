"""The stop signals a sending chunk holds (waves/stop_signals.py): held ones wait for the end of
the block, an ignored one stays ignored (a Celery pool process ignores SIGINT, so that Ctrl-C on a
foreground worker lets the running tasks finish)."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from types import FrameType

import pytest

from waves.stop_signals import held_stop_signals


@pytest.fixture
def handlers() -> Iterator[list[int]]:
    """SIGTERM reaches a recording handler (never the default action, which would end pytest);
    SIGINT is ignored, as in a pool process. Both are put back afterwards."""
    seen: list[int] = []

    def record(signum: int, _frame: FrameType | None) -> None:
        seen.append(signum)

    before = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)}
    signal.signal(signal.SIGTERM, record)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield seen
    finally:
        for signum, handler in before.items():
            signal.signal(signum, handler)


def test_a_held_signal_waits_for_the_end_of_the_block(handlers: list[int]) -> None:
    with held_stop_signals() as held:
        signal.raise_signal(signal.SIGTERM)
        assert held.requested() and handlers == []  # the chunk finishes its message first
    assert handlers == [signal.SIGTERM]  # then the process gets it, under its own handler
    assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN


def test_an_ignored_signal_stays_ignored(handlers: list[int]) -> None:
    with held_stop_signals() as held:
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
        signal.raise_signal(signal.SIGINT)
        assert not held.requested()  # the chunk goes on sending
    assert handlers == [] and signal.getsignal(signal.SIGINT) is signal.SIG_IGN
