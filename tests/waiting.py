"""Waiting on a condition, never on a fixed sleep: poll until it holds, fail naming what was awaited."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_for(condition: Callable[[], T], what: str, seconds: float = 60) -> T:
    """The condition's first true value; an assertion naming `what` once `seconds` have passed."""
    deadline = time.monotonic() + seconds
    while not (value := condition()):
        assert time.monotonic() < deadline, f"waited {seconds:g} s for {what}"
        time.sleep(0.02)  # the poll's interval, not a wait for the condition
    return value
