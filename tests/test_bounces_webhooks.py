"""The providers' signed webhooks, through the real web app (uvicorn on loopback) and httpx.

A real wave goes out to an SMTP sink on loopback first, so every report names a real ledger row
by the envelope sender that message really had. Amazon's SNS servers cannot exist here: the
tests sign SNS messages with a certificate of their own, placed in the certificate cache under
the name of an SNS address, and the one way out to AWS (``sns.http_get``) is pointed at a
loopback server where a test needs a fetch, and made to fail loudly everywhere else.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID
from sqlalchemy import func, select

from audiences.models import contacts, suppressions
from audiences.normalise import email_hash
from campaign.db import get_engine
from tests.accounts_setup import TESTER
from tests.conftest import free_port, reset_caches
from tests.live_app import live_app
from tests.sending_setup import add_contacts, approved_campaign
from tests.smtp_sink import SinkHandler, SmtpSink
from waves.bounces import sns
from waves.bounces.models import bounce_events
from waves.models import Delivery

TOPIC = "arn:aws:sns:eu-west-1:123456789012:wavecast-ses"
CERT_URL = "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-test.pem"
MAILGUN_KEY = "key-3ax6xnjp29jd6fds4gc373sgvjxteol0"
NOW = dt.datetime.now(dt.UTC)
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def certificate(*, expired: bool = False) -> bytes:
    """A self-signed certificate for KEY, valid now (or only in the past)."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.amazonaws.com")])
    start = NOW - dt.timedelta(days=30 if expired else 1)
    built = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(KEY.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=2))
        .sign(KEY, hashes.SHA256())
    )
    return built.public_bytes(serialization.Encoding.PEM)


def cache_name(url: str) -> str:
    return hashlib.sha256(url.encode()).hexdigest() + ".pem"


# --- SNS messages, signed as AWS documents it --------------------------------------------------


def signed(message: dict[str, Any]) -> dict[str, Any]:
    """Sign an SNS message: each signed field as "Name\\nvalue\\n", in AWS's order."""
    if message["Type"] == "Notification":
        fields = ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]
    else:
        fields = ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"]
    text = "".join(f"{name}\n{message[name]}\n" for name in fields if name in message)
    algorithm = hashes.SHA1() if message["SignatureVersion"] == "1" else hashes.SHA256()  # noqa: S303
    signature = KEY.sign(text.encode(), padding.PKCS1v15(), algorithm)
    return {**message, "Signature": base64.b64encode(signature).decode()}


def notification(ses: dict[str, Any], *, version: str = "1", subject: str | None = None, **fields: str) -> dict:
    """An SNS Notification carrying an SES notification, signed."""
    message = {
        "Type": "Notification",
        "MessageId": str(uuid.uuid4()),
        "TopicArn": TOPIC,
        "Message": json.dumps(ses),
        "Timestamp": "2024-05-02T09:15:39.512Z",
        "SignatureVersion": version,
        "SigningCertURL": CERT_URL,
        "UnsubscribeURL": f"https://sns.eu-west-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn={TOPIC}:1",
        **({"Subject": subject} if subject is not None else {}),
        **fields,
    }
    return signed(message)


def ses_mail(source: str, recipient: str) -> dict[str, Any]:
    """SES's `mail` object, as in AWS's documented examples."""
    return {
        "timestamp": "2024-05-02T09:15:37.112Z",
        "source": source,
        "sourceArn": "arn:aws:ses:eu-west-1:123456789012:identity/example.org",
        "sourceIp": "192.0.2.1",
        "sendingAccountId": "123456789012",
        "messageId": "0102018f3a9c6b2e-5d1c7f0e-9b8a-4c3d-8e2f-1a2b3c4d5e6f-000000",
        "destination": [recipient],
        "headersTruncated": False,
        "headers": [{"name": "To", "value": recipient}, {"name": "Subject", "value": "Our first wave"}],
        "commonHeaders": {"from": ["Campaign <news@example.org>"], "to": [recipient], "subject": "Our first wave"},
    }


def ses_bounce(source: str, recipient: str, bounce_type: str = "Permanent", status: str = "5.1.1") -> dict:
    return {
        "notificationType": "Bounce",
        "bounce": {
            "bounceType": bounce_type,
            "bounceSubType": "General",
            "bouncedRecipients": [
                {
                    "emailAddress": recipient,
                    "action": "failed",
                    "status": status,
                    "diagnosticCode": f"smtp; 550 {status} <{recipient}>: Recipient address rejected",
                }
            ],
            "timestamp": "2024-05-02T09:15:38.237Z",
            "feedbackId": "0102018f3a9c6d11-7a2b4c6d-2f1e-4a3b-9c8d-7e6f5a4b3c2d-000000",
            "remoteMtaIp": "192.0.2.10",
            "reportingMTA": "dsn; a8-70.smtp-out.amazonses.com",
        },
        "mail": ses_mail(source, recipient),
    }


def ses_complaint(source: str, recipient: str) -> dict:
    return {
        "notificationType": "Complaint",
        "complaint": {
            "userAgent": "ExampleCorp Feedback Loop (V0.01)",
            "complainedRecipients": [{"emailAddress": recipient}],
            "complaintFeedbackType": "abuse",
            "arrivalDate": "2024-05-02T10:01:00.000Z",
            "timestamp": "2024-05-02T10:01:02.345Z",
            "feedbackId": "0102018f3ac1e2f3-4b5c6d7e-8f9a-4b1c-2d3e-4f5a6b7c8d9e-000000",
        },
        "mail": ses_mail(source, recipient),
    }


# --- the wave, the app, the settings -----------------------------------------------------------


class EnvelopeHandler(SinkHandler):
    """The SMTP sink, also keeping each message's envelope sender (what SES reports as mail.source)."""

    def __init__(self) -> None:
        super().__init__()
        self.senders: dict[str, str] = {}

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        for rcpt in envelope.rcpt_tos:
            self.senders[rcpt.lower()] = envelope.mail_from
        return await super().handle_DATA(server, session, envelope)


@dataclass
class Sent:
    email: str
    contact_id: int
    delivery_id: int
    return_path: str  # the envelope sender the relay got
    message_id: str  # the Message-ID header it carried


@pytest.fixture(scope="module")
def base() -> Iterator[str]:
    with live_app(None) as url:
        yield url


@pytest.fixture
def client(base: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base, timeout=10) as http:
        yield http


@pytest.fixture
def fetched(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The hooks' settings, the test certificate in the cache; AWS's addresses asked for go here
    (AWS cannot exist here, so by default a fetch fails)."""
    cert_dir = tmp_path / "sns-certs"
    cert_dir.mkdir()
    (cert_dir / cache_name(CERT_URL)).write_bytes(certificate())
    monkeypatch.setenv("WAVECAST_SNS_TOPIC_ARNS", TOPIC)
    monkeypatch.setenv("WAVECAST_SNS_CERT_DIR", str(cert_dir))
    monkeypatch.setenv("WAVECAST_MAILGUN_SIGNING_KEY", MAILGUN_KEY)
    reset_caches()
    asked: list[str] = []

    def unreachable(url: str) -> httpx.Response:
        asked.append(url)
        raise httpx.ConnectError("AWS cannot be reached from the test suite")

    monkeypatch.setattr(sns, "http_get", unreachable)
    return asked


@pytest.fixture
def wave(fetched: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Sent]]:
    """The minimal campaign's first wave, sent to person0..2@example.org through a real relay."""
    from waves.launch import launch_wave

    sink = SmtpSink()
    handler = sink.handler = EnvelopeHandler()
    sink.start()
    monkeypatch.setenv("WAVECAST_SMTP_URL", sink.url)
    reset_caches()
    try:
        ids = add_contacts(3)
        launch_wave(approved_campaign(tmp_path), "first", TESTER)
        sink.wait_for(3, timeout=20)
    finally:
        sink.stop()
    with get_engine().connect() as conn:
        rows = dict(conn.execute(select(Delivery.contact_id, Delivery.id).where(Delivery.contact_id.in_(ids))).all())
    emails = [f"person{i}@example.org" for i in range(3)]
    got = sink.by_recipient()
    yield [
        Sent(e, cid, rows[cid], handler.senders[e], got[e][0].message_id) for e, cid in zip(emails, ids, strict=True)
    ]


def suppression(email: str) -> tuple[str, str | None, str | None, dt.datetime | None] | None:
    with get_engine().connect() as conn:
        row = conn.execute(
            select(
                suppressions.c.reason, suppressions.c.status_code, suppressions.c.source, suppressions.c.reported_at
            ).where(suppressions.c.email_hash == email_hash(email))
        ).first()
    return None if row is None else tuple(row)


def unsubscribed(contact_id: int) -> bool:
    with get_engine().connect() as conn:
        return conn.scalar(select(contacts.c.unsubscribed_at).where(contacts.c.id == contact_id)) is not None


def events() -> int:
    with get_engine().connect() as conn:
        return conn.scalar(select(func.count()).select_from(bounce_events)) or 0


# --- SES ----------------------------------------------------------------------------------------


def test_signed_ses_bounce_and_complaint_suppress_the_right_address(
    database_url: str, wave: list[Sent], client: httpx.Client, fetched: list[str]
) -> None:
    bounced, complained, soft = wave
    assert bounced.return_path.startswith(f"bounces+{bounced.delivery_id}-")  # VERP, as SES would report it

    bounce = notification(ses_bounce(bounced.return_path, bounced.email), version="1")
    answer = client.post("/hooks/ses", content=json.dumps(bounce), headers={"Content-Type": "text/plain"})
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"outcome": "1 recorded, 1 suppressed, 0 already known"}
    when = dt.datetime(2024, 5, 2, 9, 15, 38, 237000, tzinfo=dt.UTC)
    assert suppression(bounced.email) == ("hard-bounce", "5.1.1", "ses", when)
    assert not unsubscribed(bounced.contact_id)

    again = client.post("/hooks/ses", content=json.dumps(bounce))  # SNS delivers at least once
    assert again.json() == {"outcome": "0 recorded, 0 suppressed, 1 already known"}

    complaint = notification(ses_complaint(complained.return_path, complained.email), version="2", subject="SES")
    answer = client.post("/hooks/ses", content=json.dumps(complaint))
    assert answer.status_code == 200, answer.text
    assert suppression(complained.email) == (
        "complaint",
        "abuse",
        "ses",
        dt.datetime(2024, 5, 2, 10, 1, 2, 345000, tzinfo=dt.UTC),
    )
    assert unsubscribed(complained.contact_id)

    transient = notification(ses_bounce(soft.return_path, soft.email, "Transient", "4.2.2"))
    assert client.post("/hooks/ses", content=json.dumps(transient)).json()["outcome"].startswith("1 recorded, 0 ")
    assert suppression(soft.email) is None  # one soft bounce is not enough
    with get_engine().connect() as conn:
        kind, status = conn.execute(
            select(bounce_events.c.kind, bounce_events.c.status_code).where(
                bounce_events.c.delivery_id == soft.delivery_id
            )
        ).one()
    assert (kind, status) == ("soft", "4.2.2")

    delivered = notification({"notificationType": "Delivery", "mail": ses_mail(soft.return_path, soft.email)})
    assert client.post("/hooks/ses", content=json.dumps(delivered)).json() == {
        "outcome": "Delivery notification: nothing to record"
    }
    assert events() == 3
    assert fetched == []  # the certificate came from the cache


def test_ses_requests_that_sns_did_not_sign_for_our_topic_suppress_nobody(
    wave: list[Sent], client: httpx.Client, fetched: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target, other, _ = wave
    bounce = ses_bounce(target.return_path, target.email)

    def post(message: dict[str, Any] | bytes) -> httpx.Response:
        content = message if isinstance(message, bytes) else json.dumps(message).encode()
        return client.post("/hooks/ses", content=content)

    altered = notification(bounce)
    altered["Message"] = json.dumps(ses_bounce(other.return_path, other.email))  # after signing
    unsigned = {k: v for k, v in notification(bounce).items() if k != "Signature"}
    # Certificates under other names are in the cache too: only the address itself refuses them.
    hosts = [
        "https://sns.eu-west-1.amazonaws.com.evil.example/SimpleNotificationService-test.pem",
        "https://evil.example/sns.eu-west-1.amazonaws.com/SimpleNotificationService-test.pem",
        "http://sns.eu-west-1.amazonaws.com/SimpleNotificationService-test.pem",
        "https://user@sns.eu-west-1.amazonaws.com/SimpleNotificationService-test.pem",
        "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-test.txt",
    ]
    cert_dir = tmp_path / "sns-certs"
    for url in hosts:
        (cert_dir / cache_name(url)).write_bytes(certificate())
    expired_url = CERT_URL.replace("-test", "-old")
    (cert_dir / cache_name(expired_url)).write_bytes(certificate(expired=True))

    refusals = {
        "the signature does not match the message": [altered, notification(bounce, version="2") | {"Timestamp": "x"}],
        "unsigned": [unsigned, {**unsigned, "Signature": ""}],
        "TopicArn is not one of WAVECAST_SNS_TOPIC_ARNS": [
            notification(bounce, TopicArn="arn:aws:sns:eu-west-1:210987654321:someone-else")
        ],
        "SigningCertURL is not an https://sns.<region>.amazonaws.com/....pem address": [
            notification(bounce, SigningCertURL=url) for url in hosts
        ],
        "the signing certificate is not valid now": [notification(bounce, SigningCertURL=expired_url)],
        "SignatureVersion is 3: expected 1 or 2": [notification(bounce) | {"SignatureVersion": "3"}],
    }
    for reason, messages in refusals.items():
        for message in messages:
            answer = post(message)
            assert answer.status_code == 403, (reason, answer.text)
            assert answer.json()["error"].startswith(reason), answer.text

    forged_source = f"bounces+{other.delivery_id}-0123456789abcdef@example.org"
    forged = post(notification(ses_bounce(forged_source, other.email)))
    assert forged.status_code == 200, forged.text
    assert forged.json() == {"outcome": "0 recorded, 0 suppressed, 0 already known, ignored: 1 no valid token"}

    assert post(b"{not json").status_code == 400
    assert post(notification(bounce) | {"Type": "Gossip"}).status_code == 400
    too_big = post(b" " * (256 * 1024 + 1))
    assert too_big.status_code == 413 and "KiB" in too_big.json()["error"]

    assert fetched == []  # nothing refused made us fetch anything
    assert suppression(target.email) is None and suppression(other.email) is None
    assert events() == 0 and not unsubscribed(other.contact_id)

    monkeypatch.delenv("WAVECAST_SNS_TOPIC_ARNS")
    reset_caches()
    off = post(notification(bounce))
    assert off.status_code == 404 and "WAVECAST_SNS_TOPIC_ARNS" in off.json()["error"]
    assert suppression(target.email) is None


class Aws(BaseHTTPRequestHandler):
    """Stands in for an SNS host on loopback: serves a certificate, notes the confirmation."""

    asked: ClassVar[list[str]] = []
    pem: ClassVar[bytes] = b""

    def do_GET(self) -> None:
        Aws.asked.append(self.path)
        body = Aws.pem if self.path.endswith(".pem") else b"<ConfirmSubscriptionResponse/>"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def aws(fetched: list[str], monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """AWS cannot exist here: the hook's fetches go to a loopback server, path and query kept."""
    Aws.asked, Aws.pem = [], certificate()
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Aws)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()

    def via_loopback(url: str) -> httpx.Response:
        fetched.append(url)
        parts = urlsplit(url)
        query = f"?{parts.query}" if parts.query else ""
        return httpx.get(f"http://127.0.0.1:{server.server_port}{parts.path}{query}", timeout=5)

    monkeypatch.setattr(sns, "http_get", via_loopback)
    try:
        yield Aws.asked
    finally:
        server.shutdown()
        server.server_close()


def confirmation(subscribe_url: str, cert_url: str = CERT_URL) -> dict[str, Any]:
    token = "2336412f37fb687f5d51e6e2425f004aed8c4d4c2e7a9f1e0b3c"
    return signed(
        {
            "Type": "SubscriptionConfirmation",
            "MessageId": str(uuid.uuid4()),
            "Token": token,
            "TopicArn": TOPIC,
            "Message": f"You have chosen to subscribe to the topic {TOPIC}.\nTo confirm, visit the SubscribeURL.",
            "SubscribeURL": subscribe_url,
            "Timestamp": "2024-05-02T09:00:00.000Z",
            "SignatureVersion": "2",
            "SigningCertURL": cert_url,
        }
    )


def test_a_signed_subscription_confirmation_is_confirmed_at_sns_and_others_are_not(
    client: httpx.Client, aws: list[str], fetched: list[str], tmp_path: Path
) -> None:
    subscribe = f"https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn={TOPIC}&Token=2336412f"
    refused = [
        confirmation(subscribe.replace("sns.eu-west-1.amazonaws.com", "attacker.example")),
        {k: v for k, v in confirmation(subscribe).items() if k != "Signature"},
        confirmation(subscribe, cert_url="https://attacker.example/cert.pem"),
    ]
    for message in refused:
        assert client.post("/hooks/ses", content=json.dumps(message)).status_code == 403
    assert fetched == [] and aws == []

    # A certificate not cached yet is fetched once (from "AWS"), kept under its URL's hash.
    new_cert = CERT_URL.replace("-test", "-rotated")
    answer = client.post("/hooks/ses", content=json.dumps(confirmation(subscribe, cert_url=new_cert)))
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"outcome": f"subscription to {TOPIC} confirmed"}
    assert fetched == [new_cert, subscribe]
    confirm = urlsplit(aws[1])
    assert parse_qs(confirm.query) == {"Action": ["ConfirmSubscription"], "TopicArn": [TOPIC], "Token": ["2336412f"]}
    assert (tmp_path / "sns-certs" / cache_name(new_cert)).read_bytes() == Aws.pem


# --- Mailgun ------------------------------------------------------------------------------------


def mailgun_event(event: dict[str, Any], *, key: str = MAILGUN_KEY, at: float | None = None) -> dict[str, Any]:
    timestamp = str(int(time.time() if at is None else at))
    token = uuid.uuid4().hex + uuid.uuid4().hex[:18]
    signature = hmac.new(key.encode(), (timestamp + token).encode(), hashlib.sha256).hexdigest()
    return {"signature": {"timestamp": timestamp, "token": token, "signature": signature}, "event-data": event}


def mailgun_failed(sent: Sent, severity: str, code: int, message: str, enhanced: str = "") -> dict[str, Any]:
    """Mailgun's documented `failed` event (a bounce)."""
    return {
        "id": uuid.uuid4().hex[:22],
        "timestamp": 1714641338.237,
        "log-level": "error",
        "event": "failed",
        "severity": severity,
        "reason": "bounce" if severity == "permanent" else "generic",
        "envelope": {"sender": sent.return_path, "transport": "smtp", "targets": sent.email},
        "delivery-status": {
            "attempt-no": 1,
            "code": code,
            "message": message,
            "description": "",
            "enhanced-code": enhanced,
            "mx-host": "mx.example.org",
        },
        "message": {"headers": {"to": sent.email, "from": "news@example.org", "subject": "Our first wave"}},
        "recipient": sent.email,
        "recipient-domain": "example.org",
    }


def test_mailgun_signed_events_suppress_and_bad_or_stale_signatures_do_not(
    wave: list[Sent], client: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    hard, soft, other = wave

    def post(payload: dict[str, Any]) -> httpx.Response:
        return client.post("/hooks/mailgun", json=payload)

    bad_key = post(mailgun_event(mailgun_failed(other, "permanent", 550, "5.1.1 no such user"), key="key-not-ours"))
    stale = post(mailgun_event(mailgun_failed(other, "permanent", 550, "no such user"), at=time.time() - 16 * 60))
    unsigned = post({"event-data": mailgun_failed(other, "permanent", 550, "no such user")})
    assert (bad_key.status_code, stale.status_code, unsigned.status_code) == (403, 403, 403)
    assert "WAVECAST_MAILGUN_SIGNING_KEY" in bad_key.json()["error"]
    assert "minutes from now" in stale.json()["error"]
    assert suppression(other.email) is None and events() == 0

    taken = post(mailgun_event(mailgun_failed(hard, "permanent", 550, "Requested action not taken", "5.1.1")))
    assert taken.status_code == 200 and taken.json() == {"outcome": "1 recorded, 1 suppressed, 0 already known"}
    reported = dt.datetime(2024, 5, 2, 9, 15, 38, 237000, tzinfo=dt.UTC)
    assert suppression(hard.email) == ("hard-bounce", "5.1.1", "mailgun", reported)

    later = post(mailgun_event(mailgun_failed(soft, "temporary", 452, "4.2.2 The email account is over quota")))
    assert later.json()["outcome"] == "1 recorded, 0 suppressed, 0 already known"
    assert suppression(soft.email) is None

    # Mailgun's complaint carries no envelope sender: the row comes from our Message-ID, which
    # the intake trusts here only because Mailgun signed the event.
    headers = {"to": other.email, "from": "news@example.org", "subject": "Our first wave"}
    complaint = {
        "id": uuid.uuid4().hex[:22],
        "timestamp": 1714645262.345,
        "event": "complained",
        "envelope": {"sending-ip": "192.0.2.20"},
        "message": {"headers": {**headers, "message-id": other.message_id.strip("<>")}},
        "recipient": other.email,
    }
    assert post(mailgun_event(complaint)).json()["outcome"] == "1 recorded, 1 suppressed, 0 already known"
    assert suppression(other.email)[:3] == ("complaint", "abuse", "mailgun")  # type: ignore[index]
    assert unsubscribed(other.contact_id)

    monkeypatch.delenv("WAVECAST_MAILGUN_SIGNING_KEY")
    reset_caches()
    off = post(mailgun_event(mailgun_failed(soft, "permanent", 550, "no such user")))
    assert off.status_code == 404 and "WAVECAST_MAILGUN_SIGNING_KEY" in off.json()["error"]
