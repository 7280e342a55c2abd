"""Per address, what a bounce or complaint does.

- A hard bounce suppresses the address at once.
- Soft bounces suppress it once WAVECAST_SOFT_BOUNCE_LIMIT messages to it bounced softly within
  WAVECAST_SOFT_BOUNCE_WINDOW_DAYS (by the reports' own dates). Messages, not reports: a
  provider that reports every retry of one message counts that message once.
- A complaint suppresses it and unsubscribes the person: they said so, in the strongest way.

The suppression keeps its reason and evidence (status code, source, the report's date) and
only the keyed hash of the address, so it outlives erasure. An address already suppressed
keeps its first reason.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection, func, select

from audiences.consent import unsubscribe_contact
from audiences.models import suppressions
from campaign.db import dialect_insert, utcnow
from campaign.settings import get_settings
from waves.bounces.models import Kind, bounce_events

HARD_BOUNCE, SOFT_BOUNCES, COMPLAINT = "hard-bounce", "soft-bounces", "complaint"
REASONS = {Kind.HARD: HARD_BOUNCE, Kind.SOFT: SOFT_BOUNCES, Kind.COMPLAINT: COMPLAINT}


def apply(
    conn: Connection,
    email_hash: str,
    contact_id: int | None,
    kind: Kind,
    status_code: str,
    source: str,
    reported_at: dt.datetime,
) -> bool:
    """Apply the policy to one recorded event; True when the address became suppressed now."""
    rules = get_settings().bounces
    if kind == Kind.COMPLAINT and contact_id is not None:
        unsubscribe_contact(conn, contact_id)
    if kind == Kind.SOFT:
        since = reported_at - dt.timedelta(days=rules.soft_window_days)
        count = conn.scalar(
            # per message: a provider that reports each retry of one message counts it once
            select(func.count(func.distinct(bounce_events.c.delivery_id)))
            .select_from(bounce_events)
            .where(
                bounce_events.c.email_hash == email_hash,
                bounce_events.c.kind == Kind.SOFT.value,
                bounce_events.c.reported_at > since,
                bounce_events.c.reported_at <= reported_at,
            )
        )
        if (count or 0) < rules.soft_limit:
            return False
    inserted = conn.execute(
        dialect_insert(conn, suppressions)
        .values(
            email_hash=email_hash,
            reason=REASONS[kind],
            created_at=utcnow(),
            status_code=status_code[:32],
            source=source,
            reported_at=reported_at,
        )
        .on_conflict_do_nothing(index_elements=[suppressions.c.email_hash])
        .returning(suppressions.c.email_hash)  # rowcount is not reliable here on PostgreSQL
    )
    return inserted.first() is not None
