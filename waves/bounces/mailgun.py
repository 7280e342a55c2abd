"""Mailgun's bounces and complaints, from its signed webhooks.

Mailgun posts ``{"signature": {timestamp, token, signature}, "event-data": {...}}``; the signature
is the hex HMAC-SHA256 of timestamp + token under the domain's webhook signing key
(WAVECAST_MAILGUN_SIGNING_KEY; unset: the hook is off). It is compared in constant time, and a
timestamp more than 15 minutes from now is refused, so a captured request cannot be replayed
later; within those minutes a replay is the same event id, which is recorded once.

- ``failed`` with severity ``permanent`` is a hard bounce, ``temporary`` a soft one; the status
  is the delivery status's enhanced code, else what its SMTP code and message say.
- ``complained`` is a complaint.

Which ledger row the event concerns comes from the signed VERP token in ``envelope.sender``
(the envelope sender Mailgun was given) or in the message's user variables; Mailgun's
complaints carry neither, so for them the row comes from our Message-ID in
``message.headers.message-id``, which intake trusts because Mailgun signed the event.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import time
from typing import Any

from campaign import verp
from campaign.settings import get_settings
from waves.bounces import reports
from waves.bounces.models import Kind
from waves.bounces.reports import Report
from waves.bounces.webhook import Received, Refused, json_object, object_at, shown

MAX_SKEW_SECONDS = 15 * 60


def receive(body: bytes, now: float | None = None) -> Received:
    """A request to the Mailgun hook: the report of a verified event, or Refused."""
    key = get_settings().bounces.mailgun_signing_key
    if not key:
        raise Refused(404, "the Mailgun hook is off: set WAVECAST_MAILGUN_SIGNING_KEY to the domain's signing key")
    payload = json_object(body)
    verify(payload, key, time.time() if now is None else now)
    event = object_at(payload, "event-data", "")
    name = event.get("event")
    if name == "failed":
        severity = event.get("severity")
        if not isinstance(severity, str) or severity not in ("permanent", "temporary"):
            raise Refused(400, f"event-data.severity is {shown(severity)}: expected permanent or temporary")
        kind = Kind.HARD if severity == "permanent" else Kind.SOFT
        status = _status(event.get("delivery-status"), kind)
    elif name == "complained":
        kind, status = Kind.COMPLAINT, "abuse"
    else:
        return Received(note=f"{shown(name)} event: nothing to record")
    event_id = event.get("id")
    if not isinstance(event_id, str) or not event_id:
        raise Refused(400, "event-data.id is missing")
    report = Report(
        delivery_id=_delivery(event),
        kind=kind,
        status_code=status,
        reported_at=_epoch(event.get("timestamp")),
        evidence=reports.evidence_of("mailgun", event_id),
        message_id=_message_id(event),
    )
    return Received(reports=[report])


def verify(payload: dict[str, Any], key: str, now: float) -> None:
    """Refused(403) unless the signature is Mailgun's, made within MAX_SKEW_SECONDS of now."""
    signature = payload.get("signature")
    if not isinstance(signature, dict):
        raise Refused(403, "unsigned: no signature object")
    timestamp, token, given = (signature.get(k) for k in ("timestamp", "token", "signature"))
    if isinstance(timestamp, int) and not isinstance(timestamp, bool):
        timestamp = str(timestamp)
    if not all(isinstance(v, str) and v for v in (timestamp, token, given)):
        raise Refused(403, "unsigned: the signature needs timestamp, token and signature")
    assert isinstance(timestamp, str) and isinstance(token, str) and isinstance(given, str)
    expected = hmac.new(key.encode(), (timestamp + token).encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode(), given.strip().lower().encode()):
        raise Refused(403, "the signature does not match (is WAVECAST_MAILGUN_SIGNING_KEY the domain's key?)")
    if not timestamp.isascii() or not timestamp.isdigit() or len(timestamp) > 12:
        raise Refused(403, "signature.timestamp is not a number of seconds")
    skew = abs(now - int(timestamp))
    if skew > MAX_SKEW_SECONDS:
        raise Refused(403, f"the signature is {skew / 60:.0f} minutes from now: a replay, or a clock that is wrong")


def _status(found: object, kind: Kind) -> str:
    """The enhanced status code (5.1.1), else the one the SMTP reply gives, else the kind's."""
    status: dict[str, Any] = found if isinstance(found, dict) else {}
    enhanced = status.get("enhanced-code")
    if isinstance(enhanced, str) and enhanced.strip():
        return reports.status_of_reply(enhanced)
    reply = " ".join(str(status[k]) for k in ("code", "message") if status.get(k) not in (None, ""))
    if reply:
        return reports.status_of_reply(reply)
    return "5.0.0" if kind == Kind.HARD else "4.0.0"


def _delivery(event: dict[str, Any]) -> int | None:
    envelope = event.get("envelope")
    sender = envelope.get("sender") if isinstance(envelope, dict) else None
    if isinstance(sender, str):
        found = verp.delivery_in(sender)
        if found is not None:
            return found
    variables = event.get("user-variables")
    if isinstance(variables, dict) and variables:
        return verp.delivery_in(json.dumps(variables))
    return None


def _message_id(event: dict[str, Any]) -> str | None:
    """Our Message-ID as Mailgun quotes it (event-data.message.headers.message-id)."""
    message = event.get("message")
    headers = message.get("headers") if isinstance(message, dict) else None
    value = headers.get("message-id") if isinstance(headers, dict) else None
    return value if isinstance(value, str) and len(value) <= 300 else None


def _epoch(value: object) -> dt.datetime | None:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None
    try:
        return dt.datetime.fromtimestamp(value, dt.UTC)
    except (OverflowError, OSError, ValueError):
        return None
