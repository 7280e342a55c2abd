"""Consent: unsubscribing, the suppression list, GDPR access (``show``) and erasure.

Unsubscribing keeps the contact (so a later import cannot quietly re-subscribe them) and sets
``unsubscribed_at`` once; doing it again changes nothing. Erasure deletes the contact with
its tags and custom attributes and records only the keyed hash of the address in
``suppressions``; the address is recorded even when no contact holds it, so a later import of
it stays out.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection, delete, func, select, update

from audiences.models import contact_attributes, contact_tags, contacts, suppressions
from audiences.normalise import email_hash, normalise_typed
from audiences.subscription_models import PERSONAL_TABLES, subscription_requests
from campaign.db import dialect_insert, get_engine, utcnow
from campaign.errors import WavecastError
from campaign.phrase import Phrase

ERASED = "erased"


class UnknownContact(WavecastError):
    """No contact holds this address (or id)."""


def find_contact_id(conn: Connection, email: str) -> int | None:
    """The id of the contact with this address (any case), if we hold one."""
    query = select(contacts.c.id).where(contacts.c.email == normalise_typed(email))
    return conn.execute(query).scalar_one_or_none()


def unsubscribe_contact(conn: Connection, contact_id: int, at: dt.datetime | None = None) -> bool:
    """Unsubscribe by id; True when this call changed something (idempotent)."""
    result = conn.execute(
        update(contacts)
        .where(contacts.c.id == contact_id, contacts.c.unsubscribed_at.is_(None))
        .values(unsubscribed_at=at or utcnow(), updated_at=utcnow())
    )
    return result.rowcount > 0


def unsubscribe_email(email: str) -> bool:
    """Unsubscribe by address; raises UnknownContact. True when newly unsubscribed."""
    with get_engine().begin() as conn:
        contact_id = find_contact_id(conn, email)
        if contact_id is None:
            raise UnknownContact(
                f"no contact holds {normalise_typed(email)}" + erased_note(suppression_of(conn, email))
            )
        return unsubscribe_contact(conn, contact_id)


def is_suppressed(conn: Connection, email: str) -> bool:
    """Is this address on the suppression list?"""
    return suppression_of(conn, email) is not None


def suppression_of(conn: Connection, email: str) -> dict[str, Any] | None:
    """The address's entry on the suppression list, JSON-ready: its reason and the evidence a
    bounce or complaint left (status code, source, the report's date); None when not on it."""
    digest = email_hash(normalise_typed(email))
    row = (
        conn.execute(
            select(
                suppressions.c.reason,
                suppressions.c.status_code,
                suppressions.c.source,
                suppressions.c.reported_at,
                suppressions.c.created_at,
            ).where(suppressions.c.email_hash == digest)
        )
        .mappings()
        .first()
    )
    return None if row is None else {key: iso(value) for key, value in row.items()}


def describe_suppression(entry: dict[str, Any]) -> str:
    """One line for a person: why the address is suppressed, on what evidence, since when."""
    parts = [
        f"reason {entry['reason']}",
        f"status {entry['status_code']}" if entry.get("status_code") else "",
        f"reported by {entry['source']}" if entry.get("source") else "",
        f"report dated {_day(entry['reported_at'])}" if entry.get("reported_at") else "",
        f"suppressed since {_day(entry['created_at'])}" if entry.get("created_at") else "",
    ]
    return ", ".join(p for p in parts if p)


def _day(value: str) -> str:
    """An ISO timestamp as a person reads it: date and minute, UTC."""
    return value[:16].replace("T", " ") + " UTC" if "T" in value else value


def suppression_counts(conn: Connection) -> dict[str, int]:
    """How many addresses are on the suppression list, per reason (most first)."""
    rows = conn.execute(
        select(suppressions.c.reason, func.count())
        .group_by(suppressions.c.reason)
        .order_by(func.count().desc(), suppressions.c.reason)
    ).all()
    return {reason: int(count) for reason, count in rows}


# The reasons wavecast writes on the suppression list, as a page says them (others as they are).
REASON_WORDS = {
    "hard-bounce": Phrase("hard-bounce"),
    "soft-bounces": Phrase("soft-bounces"),
    "complaint": Phrase("complaint"),
    ERASED: Phrase("erased"),
}


def describe_counts(counts: dict[str, int]) -> Phrase:
    """The suppression list by reason, in one line (counts only: it holds keyed hashes)."""
    if not counts:
        return Phrase("suppression list: empty")
    by_reason = tuple(
        Phrase("%(count)d %(reason)s", count=n, reason=REASON_WORDS.get(reason, reason)) for reason, n in counts.items()
    )
    return Phrase("suppression list: %(total)d address(es): %(reasons)s", total=sum(counts.values()), reasons=by_reason)


def erased_note(entry: dict[str, Any] | None) -> str:
    """What to add to "no contact holds ..." when the address is still on the suppression list
    (only erasure deletes a contact, so an address held by no one but suppressed was erased)."""
    if entry is None:
        return ""
    return f" (the address was erased: only its keyed hash is on the suppression list; {describe_suppression(entry)})"


def erase(email: str) -> bool:
    """GDPR erasure: delete the contact and keep only the keyed hash. True if a contact was held."""
    normalised = normalise_typed(email)
    digest = email_hash(normalised)
    with get_engine().begin() as conn:
        contact_id = find_contact_id(conn, normalised)
        if contact_id is not None:
            # The foreign keys cascade; deleting explicitly keeps erasure complete even where
            # they are not enforced.
            conn.execute(delete(contact_tags).where(contact_tags.c.contact_id == contact_id))
            conn.execute(delete(contact_attributes).where(contact_attributes.c.contact_id == contact_id))
            for table in PERSONAL_TABLES:
                conn.execute(delete(table).where(table.c.contact_id == contact_id))
            conn.execute(delete(contacts).where(contacts.c.id == contact_id))
        # A subscription waiting for its link holds the address too.
        conn.execute(delete(subscription_requests).where(subscription_requests.c.email_hash == digest))
        conn.execute(
            dialect_insert(conn, suppressions)
            .values(email_hash=digest, reason=ERASED, created_at=utcnow())
            .on_conflict_do_nothing(index_elements=[suppressions.c.email_hash])
        )
    return contact_id is not None


def iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date | dt.datetime) else value


def contact_record(conn: Connection, contact_id: int) -> dict[str, Any]:
    """The contact as JSON-ready data: its row, tags, attributes and consent (GDPR access).

    The messages the ledger holds for them are a wave's business: ``waves.personal_data`` adds them."""
    row = conn.execute(select(contacts).where(contacts.c.id == contact_id)).mappings().first()
    if row is None:
        raise UnknownContact(f"no contact with id {contact_id}")
    record = {key: iso(value) for key, value in row.items()}
    record["tags"] = list(
        conn.execute(
            select(contact_tags.c.tag).where(contact_tags.c.contact_id == contact_id).order_by(contact_tags.c.tag)
        ).scalars()
    )
    record["attributes"] = dict(
        conn.execute(
            select(contact_attributes.c.name, contact_attributes.c.value)
            .where(contact_attributes.c.contact_id == contact_id)
            .order_by(contact_attributes.c.name)
        ).all()
    )
    record["consent"] = {"source": record.pop("consent_source"), "at": record.pop("consent_at")}
    record["subscribed"] = record["unsubscribed_at"] is None
    return record


def show(email: str) -> dict[str, Any]:
    """The contact record of the person with this address; raises UnknownContact."""
    normalised = normalise_typed(email)
    with get_engine().connect() as conn:
        contact_id = find_contact_id(conn, normalised)
        if contact_id is None:
            raise UnknownContact(f"no contact holds {normalised}" + erased_note(suppression_of(conn, normalised)))
        return contact_record(conn, contact_id)
