"""Reports in, events and suppressions out: the one door every way in (the SMTP/LMTP receiver,
the IMAP poller, the providers' webhooks, the relay's own 5xx at send time) goes through.

For each report whose signed token names a ledger row:
- the event is recorded once (its `evidence` is unique), against the address's keyed hash;
- the policy decides whether the address is now suppressed (waves/bounces/policy);
- the breaker looks at the wave the message belonged to (waves/bounces/breaker).

A report that names nobody (no token, a forged one, a row of an erased person) changes
nothing and is counted as ignored, with why.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import Connection, select

from audiences.models import contacts
from campaign.db import dialect_insert, get_engine, utcnow
from waves.bounces import breaker, message_ids, policy, reports
from waves.bounces.models import Kind, bounce_events
from waves.bounces.reports import Report
from waves.models import Delivery

log = logging.getLogger(__name__)

SOURCES = ("relay", "smtp", "lmtp", "imap", "ses", "mailgun")
# Reports whose sender proved who it is (a provider's signature): only these may name a message
# by its Message-ID, which anyone could guess; every other report needs the signed return path.
SIGNED_SOURCES = ("ses", "mailgun")


@dataclass
class Outcome:
    """What a batch of reports did: events recorded, addresses newly suppressed, and the
    reports ignored with why (e.g. ``{"no valid token": 2}``)."""

    recorded: int = 0
    suppressed: int = 0
    duplicates: int = 0
    ignored: Counter[str] = field(default_factory=Counter)
    paused: list[int] = field(default_factory=list)  # runs the breaker paused

    def add(self, other: Outcome) -> None:
        self.recorded += other.recorded
        self.suppressed += other.suppressed
        self.duplicates += other.duplicates
        self.ignored.update(other.ignored)
        self.paused += [p for p in other.paused if p not in self.paused]

    def summary(self) -> str:
        ignored = ", ".join(f"{n} {why}" for why, n in sorted(self.ignored.items()))
        text = f"{self.recorded} recorded, {self.suppressed} suppressed, {self.duplicates} already known"
        return text + (f", ignored: {ignored}" if ignored else "")


def take_message(raw: bytes, *, source: str, envelope_to: str | None = None) -> Outcome:
    """A returned message (a DSN, an ARF report, a non-standard bounce), as received."""
    found = reports.read(raw, envelope_to)
    if not found:
        outcome = Outcome()
        outcome.ignored["not a bounce or complaint"] += 1
        return outcome
    return take(found, source=source)


def take(found: Sequence[Report], *, source: str) -> Outcome:
    """Reports already parsed (a webhook's, the relay's refusal)."""
    assert source in SOURCES, source
    outcome = Outcome()
    runs: set[int] = set()
    with get_engine().begin() as conn:
        for report in found:
            run_id = _record(conn, report, source, outcome)
            if run_id is not None:
                runs.add(run_id)
    for run_id in sorted(runs):
        reason = breaker.check(run_id)
        if reason is not None:
            outcome.paused.append(run_id)
    if outcome.ignored:
        log.info("bounce reports from %s: %s", source, outcome.summary())
    return outcome


def refused_at_send(delivery_id: int, reply: str) -> Outcome:
    """Our own relay refused one recipient with a 5xx: a hard bounce (or soft, by its status)."""
    status = reports.status_of_reply(reply)
    report = Report(
        delivery_id=delivery_id,
        kind=reports.kind_of_status(status),
        status_code=status,
        reported_at=utcnow(),
        evidence=reports.evidence_of("relay", str(delivery_id)),
    )
    return take([report], source="relay")


def _record(conn: Connection, report: Report, source: str, outcome: Outcome) -> int | None:
    """Record one report; the run it concerns, or None when it names nobody."""
    delivery_id = report.delivery_id
    if delivery_id is None and report.message_id and source in SIGNED_SOURCES:
        delivery_id = message_ids.delivery_of(conn, report.message_id)
    if delivery_id is None:
        outcome.ignored["no valid token"] += 1
        return None
    row = conn.execute(
        select(Delivery.run_id, contacts.c.email_hash, contacts.c.id)
        .select_from(Delivery.__table__.outerjoin(contacts, contacts.c.id == Delivery.contact_id))
        .where(Delivery.id == delivery_id)
    ).first()
    if row is None:
        outcome.ignored["no such message"] += 1
        return None
    run_id, email_hash, contact_id = row
    if email_hash is None:
        outcome.ignored["the person was erased"] += 1  # and so is already suppressed
        return None
    reported_at = report.reported_at or utcnow()
    inserted = conn.execute(
        dialect_insert(conn, bounce_events)
        .values(
            email_hash=email_hash,
            delivery_id=delivery_id,
            run_id=run_id,
            kind=report.kind.value,
            status_code=report.status_code[:32],
            source=source,
            reported_at=reported_at,
            received_at=utcnow(),
            evidence=report.evidence,
        )
        .on_conflict_do_nothing(index_elements=[bounce_events.c.evidence])
        .returning(bounce_events.c.id)  # rowcount is not reliable here on PostgreSQL
    ).first()
    if inserted is None:
        outcome.duplicates += 1
        return None
    outcome.recorded += 1
    if policy.apply(conn, email_hash, contact_id, Kind(report.kind), report.status_code, source, reported_at):
        outcome.suppressed += 1
    return run_id
