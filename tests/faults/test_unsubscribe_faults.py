"""An unsubscribe committed while the wave is sending: nothing reaches that person afterwards."""

from __future__ import annotations

import time

import pytest

from audiences.consent import unsubscribe_email

from .rig import FaultRig, check

pytestmark = [pytest.mark.faults, pytest.mark.services]


def test_unsubscribe_during_sending_stops_those_messages(fault_rig: FaultRig) -> None:
    _, run_id = fault_rig.mid_wave()
    # A few from the middle, then people near the end of the wave: not sent yet, their chunks
    # queued. The middle ones go first and sit a little inside their chunk, so that even a fast
    # run is not already sending them: a message whose check came before the commit is in
    # flight, and no design can call it back.
    size = fault_rig.size
    chosen = [*range(size // 2 + 25, size // 2 + 30), *range(size - 20, size)]
    committed: dict[str, float] = {}
    for i in chosen:
        email = f"person{i}@example.org"
        assert unsubscribe_email(email)
        committed[email] = time.time()  # after the commit returned
    fault_rig.settle(run_id)
    # No process failed: no duplicate is expected at all.
    result = fault_rig.outcome(run_id, "an unsubscribe during sending", allowed=0, unsubscribed=committed)
    check(result)
    assert result.unsubscribed >= 20  # the ones at the end were certainly not sent yet
