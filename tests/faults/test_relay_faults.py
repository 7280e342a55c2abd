"""A mail relay that is down, refuses, or drops the line: 0 lost, refusals recorded with the reply."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from campaign.db import get_engine

from .rig import FULL, FaultRig, check, unknown_at_most

pytestmark = [pytest.mark.faults, pytest.mark.services]

DOWN_SECONDS = 30 if FULL else 4
TEMPFAIL_SECONDS = 20 if FULL else 3


def test_relay_down_for_a_while_loses_nothing(fault_rig: FaultRig) -> None:
    worker, run_id = fault_rig.mid_wave()
    sending = len(worker.children())
    fault_rig.sink.fault("down", seconds=DOWN_SECONDS)  # refuses connections, cuts the open ones
    fault_rig.settle(run_id)
    what = f"SMTP server down for {DOWN_SECONDS} s mid-wave"
    check(fault_rig.outcome(run_id, what, allowed=unknown_at_most(sending)))


def test_relay_tempfails_then_refuses_chosen_addresses(fault_rig: FaultRig) -> None:
    refused = {f"person{i}@example.org" for i in (3, fault_rig.size // 2, fault_rig.size - 7)}
    fault_rig.sink.fault("reject", addresses=sorted(refused))
    _, run_id = fault_rig.mid_wave()
    fault_rig.sink.fault("tempfail", seconds=TEMPFAIL_SECONDS)  # 451 to every message for a while
    fault_rig.settle(run_id)
    # A 451 after DATA means the relay did not take the message: no duplicate is expected at all.
    result = fault_rig.outcome(
        run_id, f"SMTP 4xx for {TEMPFAIL_SECONDS} s, 5xx for {len(refused)} addresses", allowed=0, refused=refused
    )
    check(result)
    assert result.refused == len(refused)
    from audiences.models import contacts
    from waves.models import Delivery

    with get_engine().connect() as conn:
        errors = conn.execute(
            select(contacts.c.email, Delivery.last_error)
            .join(contacts, contacts.c.id == Delivery.contact_id)
            .where(Delivery.run_id == run_id, Delivery.status == "failed")
        ).all()
    assert {email for email, _e in errors} == refused
    assert all(error.startswith("550") for _email, error in errors), errors  # the reply is kept


def test_relay_dropping_the_line_after_data_duplicates_only_with_the_same_message_id(fault_rig: FaultRig) -> None:
    worker, run_id = fault_rig.mid_wave()
    sending = len(worker.children())
    # Take the next message from each relay connection, then hang up before answering: the
    # sender cannot know it was taken, so it sends it again, with the same Message-ID.
    dropping = unknown_at_most(sending)
    fault_rig.sink.fault("drop_after_data", count=dropping)
    deadline = time.monotonic() + 60  # every connection has met the fault: then let it recover
    while fault_rig.sink.stats()["dropped"] < dropping:
        assert time.monotonic() < deadline, f"the sink dropped {fault_rig.sink.stats()['dropped']} of {dropping}"
        time.sleep(0.05)
    fault_rig.settle(run_id)
    result = fault_rig.outcome(run_id, "SMTP drops the connection after DATA, before its reply", allowed=dropping)
    check(result)
    assert fault_rig.sink.stats()["dropped"] == dropping
