"""Shared by the fuzzers: how many examples to run, and a count of the cases that ran, printed
in pytest's summary ("Report how many cases ran")."""

from __future__ import annotations

import contextlib
import os
import signal
from collections import Counter
from collections.abc import Iterator

import pytest

# Small in `make test`; `make faults` sets it higher.
EXAMPLES = int(os.environ.get("WAVECAST_FUZZ_EXAMPLES", "60"))


class _Summary:
    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        if not self.counts:
            return
        terminalreporter.write_sep("-", f"fuzz cases run (WAVECAST_FUZZ_EXAMPLES={EXAMPLES})")
        for name, count in sorted(self.counts.items()):
            terminalreporter.write_line(f"{name}: {count}")


_KEY = pytest.StashKey[_Summary]()


def counter(config: pytest.Config, name: str) -> Counter[str]:
    """The session's tally (registered once); callers add to `counts[name]`."""
    summary = config.stash.get(_KEY, None)
    if summary is None:
        summary = config.stash[_KEY] = _Summary()
        config.pluginmanager.register(summary, "wavecast-fuzz-cases")
    summary.counts[name] += 0
    return summary.counts


@contextlib.contextmanager
def no_hang(seconds: int, what: str = "it") -> Iterator[None]:
    """Fail the example, instead of hanging the suite, when `what` takes more than `seconds`."""

    def fail(*_: object) -> None:
        raise AssertionError(f"{what} took more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, fail)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
