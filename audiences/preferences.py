"""What a person changes about the mail they get: language, interests, a pause, and leaving one
campaign or everything. Each change is one row of ``preference_changes`` (the person's history,
shown by ``wavecast contacts show``) and one aggregate ``subscription_events`` row (the report's
counts, without the person).

Scope: ``unsubscribe_campaign`` stops one campaign (``campaign_unsubscribes``);
``unsubscribe_everything`` stops all (``contacts.unsubscribed_at``, as before). ``pause`` stops
every campaign until a date. ``audiences.segments.eligible`` reads all three.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update

from audiences.consent import iso, unsubscribe_contact
from audiences.models import contacts
from audiences.subscription_models import (
    campaign_unsubscribes,
    consent_records,
    contact_interests,
    preference_changes,
    subscription_events,
)
from campaign.db import dialect_insert, utcnow

CAMPAIGN = "campaign"
EVERYTHING = "everything"


def record_event(
    conn: Connection, campaign_id: str, event: str, language: str, interests: Sequence[str], at: dt.datetime
) -> None:
    """One aggregate row per interest (one with no interest when there is none)."""
    rows = [
        {"campaign_id": campaign_id, "event": event, "language": language, "interest": interest, "at": at}
        for interest in (interests or ("",))
    ]
    conn.execute(insert(subscription_events), rows)


def record_change(
    conn: Connection,
    contact_id: int,
    campaign_id: str,
    kind: str,
    value: str,
    source: str,
    at: dt.datetime | None = None,
) -> None:
    conn.execute(
        insert(preference_changes).values(
            contact_id=contact_id,
            campaign_id=campaign_id,
            kind=kind,
            value=value[:500],
            source=source,
            changed_at=at or utcnow(),
        )
    )


def interests_of(conn: Connection, contact_id: int, campaign_id: str) -> tuple[str, ...]:
    i = contact_interests.c
    query = (
        select(i.interest_id).where(i.contact_id == contact_id, i.campaign_id == campaign_id).order_by(i.interest_id)
    )
    return tuple(conn.execute(query).scalars())


def set_interests(conn: Connection, contact_id: int, campaign_id: str, interests: Sequence[str]) -> None:
    i = contact_interests.c
    conn.execute(delete(contact_interests).where(i.contact_id == contact_id, i.campaign_id == campaign_id))
    if interests:
        conn.execute(
            insert(contact_interests),
            [{"contact_id": contact_id, "campaign_id": campaign_id, "interest_id": x} for x in interests],
        )


def left_campaign(conn: Connection, contact_id: int, campaign_id: str) -> bool:
    u = campaign_unsubscribes.c
    found = select(u.contact_id).where(u.contact_id == contact_id, u.campaign_id == campaign_id)
    return conn.execute(found).first() is not None


def change(
    conn: Connection, contact_id: int, campaign_id: str, kind: str, value: str, language: str, source: str = "page"
) -> None:
    """Record a change: in the person's history and, without the person, in the report's counts."""
    now = utcnow()
    record_change(conn, contact_id, campaign_id, kind, value, source, now)
    interests = interests_of(conn, contact_id, campaign_id)
    record_event(conn, campaign_id, "changed", language, interests, now)


def update_preferences(
    conn: Connection,
    contact_id: int,
    campaign_id: str,
    language: str,
    interests: Sequence[str],
    paused_until: dt.date | None,
) -> list[str]:
    """Apply the preference form; returns the kinds of what changed (recorded each)."""
    row = conn.execute(select(contacts.c.language, contacts.c.paused_until).where(contacts.c.id == contact_id)).one()
    changed = []
    if row.language != language:
        conn.execute(update(contacts).where(contacts.c.id == contact_id).values(language=language, updated_at=utcnow()))
        changed.append(("language", language))
    if interests_of(conn, contact_id, campaign_id) != tuple(sorted(interests)):
        set_interests(conn, contact_id, campaign_id, sorted(interests))
        changed.append(("interests", ",".join(sorted(interests))))
    if row.paused_until != paused_until:
        conn.execute(
            update(contacts).where(contacts.c.id == contact_id).values(paused_until=paused_until, updated_at=utcnow())
        )
        changed.append(("paused_until", paused_until.isoformat() if paused_until else ""))
    for kind, value in changed:
        change(conn, contact_id, campaign_id, kind, value, language)
    return [kind for kind, _ in changed]


def unsubscribe(conn: Connection, contact_id: int, campaign_id: str, scope: str, language: str, source: str) -> bool:
    """Unsubscribe from this campaign (scope ``campaign``) or from everything; True if it changed."""
    if scope == EVERYTHING:
        done = unsubscribe_contact(conn, contact_id)
    else:
        done = bool(
            conn.execute(
                dialect_insert(conn, campaign_unsubscribes)
                .values(contact_id=contact_id, campaign_id=campaign_id, unsubscribed_at=utcnow())
                .on_conflict_do_nothing()
                .returning(campaign_unsubscribes.c.contact_id)
            ).first()
        )
    if done:
        change(conn, contact_id, campaign_id, f"unsubscribed:{scope}", "", language, source)
    return done


def history(conn: Connection, contact_id: int) -> dict[str, Any]:
    """The person's consent records, preference history, interests and campaigns left (JSON-ready)."""
    consents = conn.execute(
        select(consent_records).where(consent_records.c.contact_id == contact_id).order_by(consent_records.c.id)
    ).mappings()
    changes = conn.execute(
        select(preference_changes)
        .where(preference_changes.c.contact_id == contact_id)
        .order_by(preference_changes.c.id)
    ).mappings()
    interests = conn.execute(
        select(contact_interests.c.campaign_id, contact_interests.c.interest_id)
        .where(contact_interests.c.contact_id == contact_id)
        .order_by(contact_interests.c.campaign_id, contact_interests.c.interest_id)
    ).all()
    left = conn.execute(
        select(campaign_unsubscribes.c.campaign_id, campaign_unsubscribes.c.unsubscribed_at).where(
            campaign_unsubscribes.c.contact_id == contact_id
        )
    ).all()

    def clean(row: Any) -> dict[str, Any]:
        return {k: iso(v) for k, v in row.items() if k not in ("id", "contact_id")}

    by_campaign: dict[str, list[str]] = {}
    for campaign_id, interest in interests:
        by_campaign.setdefault(campaign_id, []).append(interest)
    return {
        "consent_records": [clean(r) for r in consents],
        "preference_changes": [clean(r) for r in changes],
        "interests": by_campaign,
        "campaigns_left": {campaign_id: iso(at) for campaign_id, at in left},
    }


def subscription_counts(conn: Connection, campaign_id: str) -> list[dict[str, Any]]:
    """The report's counts: per event (requested, confirmed, expired, changed), language and
    interest ('' for none), from ``subscription_events``, which names no one."""
    e = subscription_events.c
    rows = conn.execute(
        select(e.event, e.language, e.interest, func.count())
        .where(e.campaign_id == campaign_id)
        .group_by(e.event, e.language, e.interest)
        .order_by(e.event, e.language, e.interest)
    )
    return [{"event": ev, "language": lang, "interest": i, "count": int(n)} for ev, lang, i, n in rows]
