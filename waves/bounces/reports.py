"""One parser for every way a report comes in: what a returned message says about our message.

- An RFC 5965 ARF report (``multipart/report; report-type=feedback-report``) is a complaint.
- An RFC 3464 delivery report (``report-type=delivery-status``) gives each recipient's Action
  and Status: ``failed`` with 5.x.x is a hard bounce, ``delayed`` or 4.x.x a soft one.
- Anything else is handed to Mailman's ``flufl.bounce``, which knows the non-standard bounces of
  many MTAs (qmail, Exim, Yahoo, Microsoft, ...): a permanent failure is hard, a temporary one soft.
  Its status code is then ``unknown``: the report said no more.

Some 5.x.x codes do not say the address is dead, and do not suppress it at once:
- a full mailbox (x.2.2) is soft, as every large sender treats it;
- a policy refusal (5.7.x: "blocked as spam", "not authorised") is about the message or the
  sender, not the address, so it counts as soft, and the breaker still sees the wave's trouble.

Which message the report is about comes only from the signed VERP token (campaign/verp):
the envelope recipient the report was sent to, the headers a mailbox adds for it
(Delivered-To, X-Original-To), or the original message's Return-Path inside the report. A
report without a valid token names nobody and is ignored, however it is worded.
"""

from __future__ import annotations

import datetime as dt
import email
import email.utils
import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import Message

from flufl.bounce import all_failures

from campaign import verp
from waves.bounces.models import Kind

_STATUS = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")
_ENVELOPE_HEADERS = ("Delivered-To", "X-Original-To", "Envelope-To", "X-Envelope-To", "To")
_COMPLAINTS = {"abuse", "fraud", "virus", "other"}  # ARF types a person sends; not-spam and auth-failure are not
_AUTO_REPLY = re.compile(r"^(auto-replied|auto-generated)", re.IGNORECASE)
MAX_REPORT_BYTES = 2_000_000  # a delivery report is small; anything this big is not one


@dataclass(frozen=True)
class Report:
    """What one report says about one of our messages."""

    delivery_id: int | None  # the ledger row its signed token names; None: it names nobody
    kind: Kind
    status_code: str  # the DSN status (5.1.1), the ARF feedback type (abuse), the relay's reply code
    reported_at: dt.datetime | None  # the report's own date, when it gives one
    evidence: str  # unique per report and message: the same report twice counts once
    # Our Message-ID, as a provider's signed event quotes it: names the row when the event
    # carries no return path (Mailgun's complaints). Trusted only from signed sources.
    message_id: str | None = None


def read(raw: bytes, envelope_to: str | None = None) -> list[Report]:
    """The reports in one returned message; empty when it is no bounce or complaint (an
    auto-reply, a reply, a report that says all went well)."""
    if len(raw) > MAX_REPORT_BYTES:
        return []
    msg = email.message_from_bytes(raw)
    delivery_id = _delivery(msg, envelope_to)
    evidence_base = str(msg.get("Message-ID", "")).strip() or hashlib.sha256(raw).hexdigest()
    found = list(_classify(msg))
    if not found:
        return []
    kind, status, when = max(found, key=lambda f: _SEVERITY[f[0]])
    evidence = hashlib.sha256(f"{evidence_base}|{delivery_id}|{kind}".encode()).hexdigest()
    # The report's own date (its Date header); a field date (Arrival-Date) only when it has none.
    return [Report(delivery_id, kind, status, _date(msg.get("Date")) or when, evidence)]


_SEVERITY = {Kind.COMPLAINT: 3, Kind.HARD: 2, Kind.SOFT: 1}


def _delivery(msg: Message, envelope_to: str | None) -> int | None:
    """The ledger row named by a valid token: the envelope first, then the mailbox's headers,
    then the original message inside the report."""
    candidates = [envelope_to or ""]
    candidates += [str(v) for name in _ENVELOPE_HEADERS for v in msg.get_all(name, [])]
    for original in _originals(msg):
        candidates += [str(v) for v in original.get_all("Return-Path", [])]
    for part in msg.walk():  # an ARF report's Original-Mail-From is our envelope sender
        if part.get_content_type() == "message/feedback-report":
            candidates += [str(v) for g in _fields(part) for v in g.get_all("Original-Mail-From", [])]
    for text in candidates:
        found = verp.delivery_in(text)
        if found is not None:
            return found
    return None


def _originals(msg: Message) -> Iterator[Message]:
    """The original message (or its headers) a report carries."""
    for part in msg.walk():
        ctype = part.get_content_type()
        if ctype == "message/rfc822":
            payload = part.get_payload()
            if isinstance(payload, list):
                yield from (p for p in payload if isinstance(p, Message))
        elif ctype == "text/rfc822-headers":
            text = part.get_payload(decode=True) or b""
            yield email.message_from_bytes(text if isinstance(text, bytes) else str(text).encode())


def _classify(msg: Message) -> Iterator[tuple[Kind, str, dt.datetime | None]]:
    if _AUTO_REPLY.match(str(msg.get("Auto-Submitted", ""))) and msg.get_content_type() != "multipart/report":
        return  # a vacation message says nothing about the address
    report_type = str(msg.get_param("report-type", "", header="content-type") or "").lower()
    if msg.get_content_type() == "multipart/report" and report_type == "feedback-report":
        yield from _arf(msg)
        return
    if msg.get_content_type() == "multipart/report" and report_type == "delivery-status":
        yield from _dsn(msg)
        return
    try:
        temporary, permanent = all_failures(msg)
    except Exception:  # a detector tripped over a malformed message: it reports nothing we can use
        return
    if permanent:
        status = _status_in_text(msg)
        yield (_by_status(status) if status and status[0] == "5" else Kind.HARD), status or "unknown", None
    elif temporary:
        yield Kind.SOFT, _status_in_text(msg) or "unknown", None


def _fields(part: Message) -> list[Message]:
    """The field groups of a message/delivery-status or message/feedback-report part."""
    payload = part.get_payload()
    if isinstance(payload, list):  # the email package parsed the groups as header blocks
        return [p for p in payload if isinstance(p, Message)]
    text = part.get_payload(decode=True) or b""
    raw = text if isinstance(text, bytes) else str(text).encode()
    return [email.message_from_bytes(block) for block in re.split(rb"\r?\n\r?\n", raw) if block.strip()]


def _arf(msg: Message) -> Iterator[tuple[Kind, str, dt.datetime | None]]:
    for part in msg.walk():
        if part.get_content_type() != "message/feedback-report":
            continue
        fields: dict[str, str] = {}
        for group in _fields(part):
            fields.update({k.lower(): str(v).strip() for k, v in group.items()})
        feedback = fields.get("feedback-type", "abuse").lower()
        if feedback in _COMPLAINTS:
            when = _date(fields.get("arrival-date") or fields.get("received-date"))
            yield Kind.COMPLAINT, feedback[:32], when


def _dsn(msg: Message) -> Iterator[tuple[Kind, str, dt.datetime | None]]:
    for part in msg.walk():
        if part.get_content_type() != "message/delivery-status":
            continue
        groups = _fields(part)
        when = _date(str(groups[0].get("Arrival-Date", ""))) if groups else None
        for group in groups[1:] or groups:
            action = str(group.get("Action", "")).strip().lower()
            status_match = _STATUS.search(str(group.get("Status", "")))
            status = status_match.group(0) if status_match else ""
            if action == "failed":
                yield _by_status(status or "5.0.0"), status or "5.0.0", when
            elif action == "delayed":
                yield Kind.SOFT, status or "4.0.0", when


def kind_of_status(status: str) -> Kind:
    """Hard or soft, by an enhanced status code (5.1.1) or a bare reply code (550)."""
    if _STATUS.fullmatch(status):
        return _by_status(status)
    return Kind.HARD if status.startswith("5") else Kind.SOFT


def status_of_reply(reply: str) -> str:
    """The enhanced status code of an SMTP reply (``550 5.1.1 User unknown``), else its code."""
    found = _STATUS.search(reply)
    if found:
        return found.group(0)
    code = re.match(r"\s*([2-5]\d\d)\b", reply)
    return code.group(1) if code else "5.0.0"


def evidence_of(*parts: str) -> str:
    """The evidence key of a report known by parts (a provider's message id, a row id)."""
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


def _by_status(status: str) -> Kind:
    klass, subject, detail = status.split(".")
    if klass != "5" or (subject, detail) == ("2", "2") or subject == "7":
        return Kind.SOFT
    return Kind.HARD


def _status_in_text(msg: Message) -> str | None:
    """A non-standard bounce often quotes the relay's enhanced status code in its text."""
    for part in msg.walk():
        if part.get_content_maintype() != "text":
            continue
        body = part.get_payload(decode=True) or b""
        found = _STATUS.search(body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body))
        if found and found.group(1) in "45":
            return found.group(0)
    return None


def _date(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(str(value).strip())
    except (TypeError, ValueError, IndexError):
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC)
