"""Building blocks for sending tests: contacts inserted in bulk, an approved copy of a campaign."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, insert, select

from audiences.models import Contact
from audiences.normalise import email_hash
from campaign.bundle import Bundle, load_bundle
from campaign.db import get_engine, session_scope, utcnow
from tests.accounts_setup import TESTER
from tests.campaign_copy import copy_campaign, edit

LANGS = ("nl", "fr", "de", "en")


def add_contacts(count: int, start: int = 0, **extra: object) -> list[int]:
    """`count` contacts person<i>@example.org, languages in turn; returns their ids."""
    now = utcnow()
    rows = []
    for i in range(start, start + count):
        email = f"person{i}@example.org"
        rows.append(
            {
                "email": email,
                "email_hash": email_hash(email),
                "first_name": f"Person{i}",
                "language": LANGS[i % len(LANGS)],
                "birth_year": 1980,
                "created_at": now,
                "updated_at": now,
                **extra,
            }
        )
    engine = get_engine()
    with engine.begin() as conn:
        for offset in range(0, len(rows), 1000):
            conn.execute(insert(Contact), rows[offset : offset + 1000])
        emails = [r["email"] for r in rows]
        found = conn.execute(select(Contact.id, Contact.email).where(Contact.email.in_(emails))).all()
    by_email = dict((e, i) for i, e in found)
    return [by_email[e] for e in emails]


def approved_campaign(tmp_path: Path, *, rate: float | None = None, x_stagger: int = 0) -> Bundle:
    """A copy of the minimal campaign, its newsletter channel throttled to `rate`, both waves approved."""
    from waves.approval import approve

    camp = copy_campaign(tmp_path)
    if rate is not None or x_stagger:
        newsletter = f"{{rate_per_second: {rate}}}" if rate is not None else "{}"
        edit(
            camp / "campaign.yaml",
            "ambitions:\n",
            f"channels:\n  newsletter: {newsletter}\n  x: {{stagger_minutes: {x_stagger}}}\nambitions:\n",
        )
    bundle = load_bundle(camp)
    with session_scope() as session:
        for wave in bundle.spec.waves:
            approve(session, bundle, wave.id, TESTER)
    return bundle


ALWAYS_OPEN = '  send_window: {days: [mon, tue, wed, thu, fri, sat, sun], start: "00:00", end: "23:59"}\n'


def always_open(camp: Path) -> None:
    """Let a test campaign send at any hour of any day, so tests do not depend on the clock."""
    edit(camp / "campaign.yaml", "  blackout_dates:\n", ALWAYS_OPEN + "  blackout_dates:\n")


def person_statuses(run_id: int) -> dict[str, int]:
    """The run's messages to people (not its posts) by ledger status."""
    from waves.models import Delivery

    with get_engine().connect() as conn:
        rows = conn.execute(
            select(Delivery.status, func.count())
            .where(Delivery.run_id == run_id, Delivery.account.is_(None))
            .group_by(Delivery.status)
        ).all()
    return {status: int(count) for status, count in rows}
