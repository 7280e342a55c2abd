"""Amazon SES bounces and complaints, as Amazon SNS posts them to our HTTPS endpoint.

SNS signs every message with a certificate of its own. A message is taken only when:
- its TopicArn is one of WAVECAST_SNS_TOPIC_ARNS (none set: the hook is off);
- its SigningCertURL is ``https://sns.<region>.amazonaws.com[.cn]/<...>.pem``, checked before
  anything is fetched, so a forged message cannot make us fetch from a host of its choosing;
- that certificate is valid now and its RSA key verifies the Signature over the canonical
  string AWS documents (SHA1 for SignatureVersion 1, SHA256 for 2).

AWS publishes a new certificate under a new URL, so a URL's certificate never changes: it is
cached in WAVECAST_SNS_CERT_DIR as ``<sha256 of the URL>.pem`` (else in memory) and fetched only
the first time. Delete the file to fetch it again.

A SubscriptionConfirmation that passes is confirmed by fetching its SubscribeURL, which must be
on the same SNS host pattern. A Notification whose Message is an SES Bounce or Complaint becomes
one Report. Which ledger row it concerns comes only from the signed VERP token in
``mail.source``, the envelope sender SES saw: a notification about a message we did not send
names nobody, however it is signed.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import json
import logging
import os
import re
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from campaign import verp
from campaign.settings import get_settings
from waves.bounces import reports
from waves.bounces.models import Kind
from waves.bounces.reports import Report
from waves.bounces.webhook import Received, Refused, iso_date, json_object, object_at, shown

log = logging.getLogger(__name__)

FETCH_TIMEOUT_SECONDS = 5.0
MAX_CERT_BYTES = 64 * 1024
_HOST = re.compile(r"^sns\.[a-z0-9-]{1,40}\.amazonaws\.com(\.cn)?$")
_URL_CHARS = re.compile(r"^[\x21-\x7e]{1,2048}$")  # printable ASCII, no spaces: nothing a parser strips
# The fields of the string to sign, in AWS's order. Subject is signed only when the message has one.
_CONFIRMATION = ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type")
_SIGNED = {
    "Notification": ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"),
    "SubscriptionConfirmation": _CONFIRMATION,
    "UnsubscribeConfirmation": _CONFIRMATION,
}
# SHA1 is what SignatureVersion 1 is; AWS still signs with it unless the topic asks for version 2.
_HASHES: dict[str, type[hashes.HashAlgorithm]] = {"1": hashes.SHA1, "2": hashes.SHA256}
_COMPLAINTS = {"abuse", "fraud", "virus", "other"}  # as for ARF reports: not-spam and auth-failure are not
_MEMORY: dict[str, bytes] = {}  # certificates by URL, when there is no cache directory


def http_get(url: str) -> httpx.Response:
    """GET an SNS address (a signing certificate, a subscription's confirmation). The one way
    out to AWS: a test, which cannot reach AWS, points it at a loopback server instead."""
    return httpx.get(url, timeout=FETCH_TIMEOUT_SECONDS, follow_redirects=False)


def receive(body: bytes) -> Received:
    """A request to the SES hook: the reports of a verified notification, or Refused."""
    topics = get_settings().bounces.sns_topic_arns
    if not topics:
        raise Refused(404, "the SES hook is off: set WAVECAST_SNS_TOPIC_ARNS to the SNS topics SES notifies")
    message = json_object(body)
    kind = message.get("Type")
    if not isinstance(kind, str) or kind not in _SIGNED:
        raise Refused(400, f"Type is {shown(kind)}: expected Notification or a subscription confirmation")
    topic = message.get("TopicArn")
    if not isinstance(topic, str) or not topic:
        raise Refused(400, "TopicArn is missing")
    if topic not in topics:
        raise Refused(403, "TopicArn is not one of WAVECAST_SNS_TOPIC_ARNS")
    verify(message)
    if kind == "SubscriptionConfirmation":
        _confirm(message, topic)
        return Received(note=f"subscription to {topic} confirmed")
    if kind == "UnsubscribeConfirmation":
        log.warning("SNS says the subscription to %s was removed; its SES reports no longer come here", topic)
        return Received(note="unsubscribe confirmation noted")
    return ses_reports(message)


def verify(message: dict[str, Any]) -> None:
    """Refused(403) unless SNS signed exactly this message with a certificate valid now."""
    version, signature, cert_url = (message.get(k) for k in ("SignatureVersion", "Signature", "SigningCertURL"))
    if not signature or not cert_url or not version:
        raise Refused(403, "unsigned: Signature, SignatureVersion and SigningCertURL are required")
    if not isinstance(version, str) or version not in _HASHES:
        raise Refused(403, f"SignatureVersion is {shown(version)}: expected 1 or 2")
    if not isinstance(signature, str) or not isinstance(cert_url, str):
        raise Refused(403, "Signature and SigningCertURL must be text")
    if not is_sns_url(cert_url) or not urlsplit(cert_url).path.endswith(".pem"):
        raise Refused(403, "SigningCertURL is not an https://sns.<region>.amazonaws.com/....pem address")
    try:
        raw_signature = base64.b64decode(signature, validate=True)
    except (binascii.Error, ValueError):
        raise Refused(403, "Signature is not base64") from None
    try:
        signed = string_to_sign(message).encode()
    except UnicodeEncodeError:  # a lone surrogate escaped in the JSON: nothing AWS signs
        raise Refused(400, "the message holds text that is not Unicode") from None
    certificate = _certificate(cert_url)
    now = dt.datetime.now(dt.UTC)
    if not certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc:
        raise Refused(403, "the signing certificate is not valid now")
    key = certificate.public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        raise Refused(403, "the signing certificate does not hold an RSA key")
    try:
        key.verify(raw_signature, signed, padding.PKCS1v15(), _HASHES[version]())
    except InvalidSignature:
        raise Refused(403, "the signature does not match the message") from None


def string_to_sign(message: dict[str, Any]) -> str:
    """``Name\\nvalue\\n`` for each signed field of the message's Type, in AWS's order."""
    lines = []
    for name in _SIGNED[message["Type"]]:
        value = message.get(name)
        if value is None and name == "Subject":
            continue
        if not isinstance(value, str):
            raise Refused(400, f"{name} is missing")
        lines.append(f"{name}\n{value}\n")
    return "".join(lines)


def is_sns_url(url: str) -> bool:
    """https, on an SNS host of any region, with nothing (user, port) between scheme and host."""
    if not _URL_CHARS.match(url):
        return False
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    host = parts.hostname or ""
    return parts.scheme == "https" and parts.netloc.lower() == host and bool(_HOST.match(host))


def _certificate(url: str) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(_certificate_pem(url))
    except ValueError:
        raise Refused(403, "SigningCertURL does not hold a PEM certificate") from None


def _certificate_pem(url: str) -> bytes:
    """The certificate at an SNS URL: from the cache, else fetched once and kept."""
    cert_dir = get_settings().bounces.sns_cert_dir
    name = hashlib.sha256(url.encode()).hexdigest() + ".pem"
    if cert_dir is None and url in _MEMORY:
        return _MEMORY[url]
    if cert_dir is not None:
        try:
            return (cert_dir / name).read_bytes()
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise Refused(503, f"WAVECAST_SNS_CERT_DIR: cannot read {name}: {exc.strerror}") from None
    try:
        response = http_get(url)
    except httpx.HTTPError as exc:
        raise Refused(503, f"could not fetch the signing certificate ({type(exc).__name__})") from None
    pem = response.content
    if response.status_code != 200 or len(pem) > MAX_CERT_BYTES:
        raise Refused(403, f"SigningCertURL gave HTTP {response.status_code}, not a certificate")
    try:
        x509.load_pem_x509_certificate(pem)
    except ValueError:
        raise Refused(403, "SigningCertURL does not hold a PEM certificate") from None
    if cert_dir is None:
        if len(_MEMORY) >= 16:  # AWS rotates rarely; a handful of entries is every region's
            _MEMORY.clear()
        _MEMORY[url] = pem
    else:
        _keep(cert_dir, name, pem)
    return pem


def _keep(cert_dir: Path, name: str, pem: bytes) -> None:
    """Write the cache file whole or not at all; a cache that cannot be written only costs a fetch."""
    try:
        cert_dir.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=cert_dir, prefix=".", suffix=".tmp")
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
        os.replace(tmp, cert_dir / name)
    except OSError as exc:
        log.warning("WAVECAST_SNS_CERT_DIR: cannot keep the SNS certificate %s: %s", name, exc.strerror)


def _confirm(message: dict[str, Any], topic: str) -> None:
    """Fetch the SubscribeURL: that is how SNS learns this endpoint wants the topic's messages."""
    url = message.get("SubscribeURL")
    if not isinstance(url, str) or not is_sns_url(url):
        raise Refused(403, "SubscribeURL is not an https://sns.<region>.amazonaws.com/ address")
    try:
        response = http_get(url)
    except httpx.HTTPError as exc:
        raise Refused(502, f"could not confirm the subscription ({type(exc).__name__}); SNS will ask again") from None
    if response.status_code != 200:
        raise Refused(502, f"confirming the subscription got HTTP {response.status_code}; SNS will ask again")
    log.info("SNS subscription to %s confirmed", topic)  # the URL holds the subscription's token: not logged


def ses_reports(message: dict[str, Any]) -> Received:
    """The report in a verified SES notification; Delivery and the like record nothing."""
    try:
        ses = json.loads(message["Message"])
    except (ValueError, RecursionError):
        ses = None
    if not isinstance(ses, dict):
        return Received(note="not an SES notification: nothing to record")
    kind = ses.get("notificationType") or ses.get("eventType")  # event publishing says eventType
    if not isinstance(kind, str) or kind not in ("Bounce", "Complaint"):
        return Received(note=f"{shown(kind)} notification: nothing to record")
    mail = object_at(ses, "mail", "Message: ")
    source = mail.get("source")
    delivery_id = verp.delivery_in(source) if isinstance(source, str) else None
    report: Report | None
    if kind == "Bounce":
        report = _bounce(object_at(ses, "bounce", "Message: "), delivery_id, message["MessageId"])
    else:
        report = _complaint(object_at(ses, "complaint", "Message: "), delivery_id, message["MessageId"])
    if report is None:
        return Received(note="a complaint of a kind that is not a person's (not-spam, auth-failure)")
    return Received(reports=[report])


def _first_recipient(found: object, where: str) -> dict[str, Any]:
    """A wavecast message has one recipient, so a notification about one names one."""
    if not isinstance(found, list) or not found or not isinstance(found[0], dict):
        raise Refused(400, f"Message: {where} is not a list of recipients")
    return found[0]


def _bounce(bounce: dict[str, Any], delivery_id: int | None, message_id: str) -> Report:
    bounce_type = bounce.get("bounceType")
    if bounce_type == "Permanent":
        kind = Kind.HARD
    elif isinstance(bounce_type, str) and bounce_type in ("Transient", "Undetermined"):
        kind = Kind.SOFT
    else:
        raise Refused(400, f"Message: bounce.bounceType is {shown(bounce_type)}: expected Permanent or Transient")
    recipient = _first_recipient(bounce.get("bouncedRecipients"), "bounce.bouncedRecipients")
    status = "5.0.0" if kind == Kind.HARD else "4.0.0"
    for said in (recipient.get("status"), recipient.get("diagnosticCode")):
        if isinstance(said, str) and said.strip():
            status = reports.status_of_reply(said)
            break
    return Report(
        delivery_id=delivery_id,
        kind=kind,
        status_code=status,
        reported_at=iso_date(bounce.get("timestamp")),
        evidence=reports.evidence_of("ses", message_id, _address(recipient)),
    )


def _complaint(complaint: dict[str, Any], delivery_id: int | None, message_id: str) -> Report | None:
    recipient = _first_recipient(complaint.get("complainedRecipients"), "complaint.complainedRecipients")
    feedback = complaint.get("complaintFeedbackType") or "abuse"
    feedback = feedback.strip().lower()[:32] if isinstance(feedback, str) else "abuse"
    if feedback not in _COMPLAINTS:
        return None
    return Report(
        delivery_id=delivery_id,
        kind=Kind.COMPLAINT,
        status_code=feedback,
        reported_at=iso_date(complaint.get("timestamp")),
        evidence=reports.evidence_of("ses", message_id, _address(recipient)),
    )


def _address(recipient: dict[str, Any]) -> str:
    address = recipient.get("emailAddress")
    return address.strip().lower() if isinstance(address, str) else ""
