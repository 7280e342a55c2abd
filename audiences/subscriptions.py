"""Double opt-in: a request waits for its link; following it gives consent; unfollowed, it expires.

Nothing counts as consent until the link is followed: a request is a row of
``subscription_requests`` that no segment reads. Confirming creates the contact (or takes the
known one back: an address unsubscribed, suppressed or erased comes back only here), records
the consent (hash and version of the exact text shown, source, language, time), sets language
and interests, and deletes the request, so a second use of the link finds nothing. Expired
requests are deleted by ``expire``; the address goes with them.

The link carries a random nonce signed and timestamped with WAVECAST_SECRET_KEY: a forged,
damaged, replayed or expired link gets the same answer, and none of them says whether an
address is known.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from itsdangerous import BadData, URLSafeTimedSerializer
from sqlalchemy import Connection, Row, delete, insert, select, update

from audiences.models import contacts, suppressions
from audiences.normalise import email_hash, normalise_typed
from audiences.preferences import record_change, record_event, set_interests
from audiences.subscription_models import (
    SOURCES,
    campaign_unsubscribes,
    consent_records,
    subscription_requests,
)
from campaign.db import utcnow
from campaign.errors import WavecastError
from campaign.model import Campaign
from campaign.settings import get_settings

_SALT = "wavecast.subscribe"


class InvalidLink(WavecastError):
    """A confirmation link that was forged, damaged, used already or has expired."""

    http_status = 400


class NotOpen(WavecastError):
    """The campaign has no ``subscribe`` section: it takes no subscriptions."""

    http_status = 404


@dataclass(frozen=True)
class Request:
    """What a visitor asked for, checked: a valid address, a campaign language, known interests."""

    email: str
    first_name: str | None
    language: str
    interests: tuple[str, ...]
    source: str


def consent_text(spec: Campaign, lang: str) -> tuple[str, str]:
    """(version, text) of the consent wording the form shows in `lang`."""
    subscribe = spec.campaign.subscribe
    if subscribe is None:
        raise NotOpen("this campaign takes no subscriptions")
    texts = subscribe.consent.text
    fallback = spec.campaign.fallbacks.get(lang)
    text = texts.get(lang) or (texts.get(fallback) if fallback else None) or next(iter(texts.values()))
    return subscribe.consent.version, text


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def checked_request(
    spec: Campaign, email: str, first_name: str | None, language: str, interests: Sequence[str], source: str
) -> Request:
    """The visitor's input as a Request; raises InvalidEmail or WavecastError naming the field."""
    if source not in SOURCES:
        raise WavecastError(f"source: {source!r} is not one of {', '.join(SOURCES)}")
    if language not in spec.campaign.languages:
        raise WavecastError(f"language: {language!r} is not one of {', '.join(spec.campaign.languages)}")
    known = {i.id for i in spec.interests}
    unknown = [i for i in interests if i not in known]
    if unknown:
        raise WavecastError(f"interests: unknown interest {unknown[0][:64]!r}")
    name = (first_name or "").strip()
    if len(name) > 100 or any(ch in name for ch in "<>\r\n\t"):
        raise WavecastError("first_name: at most 100 characters, without < > or line breaks")
    return Request(normalise_typed(email), name or None, language, tuple(dict.fromkeys(interests)), source)


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(get_settings().secret_key, salt=_SALT)


def confirm_url(token: str) -> str:
    return f"{get_settings().base_url}/subscribe/confirm/{token}"


def request_subscription(conn: Connection, spec: Campaign, request: Request, now: dt.datetime | None = None) -> str:
    """Store the request; returns the signed token for its confirmation link."""
    now = now or utcnow()
    subscribe = spec.campaign.subscribe
    if subscribe is None:
        raise NotOpen("this campaign takes no subscriptions")
    version, text = consent_text(spec, request.language)
    nonce = secrets.token_urlsafe(24)
    conn.execute(
        insert(subscription_requests).values(
            nonce=nonce,
            campaign_id=spec.campaign.id,
            email=request.email,
            email_hash=email_hash(request.email),
            first_name=request.first_name,
            language=request.language,
            interests=",".join(request.interests),
            text_hash=text_hash(text),
            text_version=version,
            source=request.source,
            created_at=now,
            expires_at=now + dt.timedelta(hours=subscribe.confirm_hours),
        )
    )
    record_event(conn, spec.campaign.id, "requested", request.language, request.interests, now)
    return str(_serializer().dumps(nonce))


def _nonce(spec: Campaign, token: str) -> str:
    hours = spec.campaign.subscribe.confirm_hours if spec.campaign.subscribe else 0
    try:
        nonce = _serializer().loads(token, max_age=hours * 3600)
    except BadData:
        raise InvalidLink("this confirmation link is not valid, was used already or has expired") from None
    if not isinstance(nonce, str):
        raise InvalidLink("this confirmation link is not valid")
    return nonce


def pending(conn: Connection, spec: Campaign, token: str, now: dt.datetime | None = None) -> str:
    """The language of the request a valid, unused, unexpired link names; raises InvalidLink."""
    row = _pending_row(conn, spec, token, now or utcnow())
    return str(row.language)


def _pending_row(conn: Connection, spec: Campaign, token: str, now: dt.datetime) -> Row[Any]:
    r = subscription_requests.c
    row = conn.execute(
        select(subscription_requests).where(
            r.nonce == _nonce(spec, token), r.campaign_id == spec.campaign.id, r.expires_at > now
        )
    ).first()
    if row is None:
        raise InvalidLink("this confirmation link is not valid, was used already or has expired")
    return row


def confirm(conn: Connection, spec: Campaign, token: str, now: dt.datetime | None = None) -> tuple[int, str]:
    """Follow a confirmation link: consent is given now. Returns (contact id, language)."""
    now = now or utcnow()
    row = _pending_row(conn, spec, token, now)
    # Deleted first, guarded: of two clicks at once, only one goes on.
    if conn.execute(delete(subscription_requests).where(subscription_requests.c.id == row.id)).rowcount != 1:
        raise InvalidLink("this confirmation link was used already")
    campaign_id = spec.campaign.id
    # Coming back through double opt-in is the one way off the suppression list.
    conn.execute(delete(suppressions).where(suppressions.c.email_hash == row.email_hash))
    contact_id = conn.execute(select(contacts.c.id).where(contacts.c.email_hash == row.email_hash)).scalar()
    source = f"subscribe:{row.source}"
    values = {"language": row.language, "consent_source": source, "consent_at": now, "updated_at": now}
    if row.first_name:
        values["first_name"] = row.first_name
    if contact_id is None:
        contact_id = conn.execute(
            insert(contacts)
            .values(email=row.email, email_hash=row.email_hash, created_at=now, **values)
            .returning(contacts.c.id)
        ).scalar_one()
    else:
        conn.execute(
            update(contacts)
            .where(contacts.c.id == contact_id)
            .values(unsubscribed_at=None, paused_until=None, **values)
        )
    u = campaign_unsubscribes.c
    conn.execute(delete(campaign_unsubscribes).where(u.contact_id == contact_id, u.campaign_id == campaign_id))
    interests = tuple(i for i in row.interests.split(",") if i)
    set_interests(conn, contact_id, campaign_id, interests)
    conn.execute(
        insert(consent_records).values(
            contact_id=contact_id,
            campaign_id=campaign_id,
            text_hash=row.text_hash,
            text_version=row.text_version,
            source=row.source,
            language=row.language,
            requested_at=row.created_at,
            confirmed_at=now,
        )
    )
    record_change(conn, contact_id, campaign_id, "subscribed", ",".join(interests), row.source, now)
    record_event(conn, campaign_id, "confirmed", row.language, interests, now)
    return int(contact_id), str(row.language)


def pending_requests(conn: Connection, digest: str) -> list[dict[str, Any]]:
    """The unconfirmed requests of an address (by its keyed hash), for GDPR access: what was
    asked, when, and until when the link works."""
    r = subscription_requests.c
    rows = conn.execute(
        select(r.campaign_id, r.language, r.interests, r.source, r.created_at, r.expires_at)
        .where(r.email_hash == digest)
        .order_by(r.id)
    ).mappings()
    return [{k: v.isoformat() if isinstance(v, dt.datetime) else v for k, v in row.items()} for row in rows]


def expire(conn: Connection, now: dt.datetime | None = None) -> int:
    """Delete every request whose link has expired (the address goes with it); returns how many."""
    now = now or utcnow()
    r = subscription_requests.c
    gone = conn.execute(
        delete(subscription_requests).where(r.expires_at <= now).returning(r.campaign_id, r.language, r.interests)
    ).all()
    for campaign_id, language, interests in gone:
        record_event(conn, campaign_id, "expired", language, tuple(i for i in interests.split(",") if i), now)
    return len(gone)
