"""Ledger rows to bounce: a sent wave's rows made directly, and the reports that name them."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import insert, select

from audiences.models import Contact
from campaign import verp
from campaign.db import get_engine, utcnow
from tests.sending_setup import add_contacts
from waves.models import RUNNING, SENT, Delivery, WaveRun

SENDER = "digitaal@bosa.example"
FIXTURES = Path(__file__).parent / "fixtures" / "bounces"


def sent_rows(
    count: int, *, state: str = RUNNING, audience: str = "everyone", start: int = 0, wave: str | None = None
) -> list[int]:
    """A run of `count` e-mails already sent to person<start..>@example.org (made unless a run
    before made them); their ledger ids."""
    emails = [f"person{i}@example.org" for i in range(start, start + count)]
    with get_engine().connect() as conn:
        known = dict(conn.execute(select(Contact.email, Contact.id).where(Contact.email.in_(emails))).all())
    contact_ids = [known[e] for e in emails] if len(known) == count else add_contacts(count, start=start)
    wave = wave or f"bounces-{start}"
    now = utcnow()
    with get_engine().begin() as conn:
        run_id = conn.execute(
            insert(WaveRun).values(
                run_key=f"test:{wave}",
                campaign_id="test",
                wave_id=wave,
                campaign_dir="/nonexistent",
                content_hash="0" * 64,
                state=state,
                launched_by="tester",
                created_at=now,
                updated_at=now,
            )
        ).inserted_primary_key[0]
        conn.execute(
            insert(Delivery),
            [
                {
                    "run_id": run_id,
                    "contact_id": contact_id,
                    "channel": "newsletter",
                    "message_id": f"m{contact_id}",
                    "audience_id": audience,
                    "language": "nl",
                    "status": SENT,
                    "claimed_at": now,
                    "sent_at": now,
                }
                for contact_id in contact_ids
            ],
        )
        found = conn.execute(select(Delivery.id, Delivery.contact_id).where(Delivery.run_id == run_id)).all()
    by_contact = {contact: row for row, contact in found}
    return [by_contact[c] for c in contact_ids]


def return_path(delivery_id: int) -> str:
    return verp.return_path(delivery_id, SENDER)


def fixture(name: str, delivery_id: int | None = None) -> bytes:
    """A report from tests/fixtures/bounces; an ARF report gets the row's signed return path."""
    raw = (FIXTURES / name).read_bytes()
    if delivery_id is not None:
        raw = raw.replace(b"{RETURN_PATH}", return_path(delivery_id).encode())
    return raw
