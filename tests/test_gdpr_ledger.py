"""GDPR and the ledger: access lists the messages sent to a person; erasure leaves only counts."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from audiences.consent import erase
from campaign.db import get_engine
from tests.accounts_setup import TESTER
from tests.sending_setup import add_contacts, approved_campaign
from waves import personal_data
from waves.launch import launch_wave
from waves.models import Delivery


def test_show_lists_messages_and_erasure_keeps_only_anonymous_rows(tmp_path: Path, database_url: str) -> None:
    ids = add_contacts(3)
    bundle = approved_campaign(tmp_path)
    launch_wave(bundle, "first", TESTER)
    record = personal_data.find("person1@example.org").record
    assert record is not None
    assert [(m["wave_id"], m["channel"], m["status"]) for m in record["messages"]] == [("first", "newsletter", "sent")]
    assert record["messages"][0]["sent_at"]
    assert erase("person1@example.org")
    with get_engine().connect() as conn:
        person = Delivery.account.is_(None)  # the wave's posts are ledger rows without a person
        rows = conn.execute(select(Delivery.contact_id, Delivery.status).where(person).order_by(Delivery.id)).all()
    assert sorted(r.status for r in rows) == ["sent", "sent", "sent"]  # the counts stay
    assert ids[1] not in [r.contact_id for r in rows] and None in [r.contact_id for r in rows]
