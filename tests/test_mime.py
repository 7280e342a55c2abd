"""The newsletter message on the wire: header safety, structure, and exact round trips."""

from __future__ import annotations

import datetime as dt
import os
import smtplib
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from campaign.bundle import load_bundle
from campaign.errors import InvalidInput, WavecastError
from campaign.mime import (
    UnsafeHeader,
    check_address,
    check_header,
    encode_header,
    envelope_address,
    message_id,
    needs_smtputf8,
)
from campaign.newsletter import NewsletterSegment
from campaign.render_check import validated
from campaign.segment import render_segment
from tests.campaign_copy import MINIMAL, copy_campaign, edit, line_of
from tests.conftest import reset_caches

INJECTIONS = {
    "CRLF and a header": "Hello\r\nBcc: victim@example.org",
    "bare LF": "Hello\nthere",
    "bare CR": "Hello\rthere",
    "trailing newline": "Hello\n",
    "trailing CRLF": "Hello\r\n",
    "line separator": "Hello\u2028there",
    "paragraph separator": "Hello\u2029there",
    "next line": "Hello\x85there",
    "vertical tab": "Hello\x0bthere",
    "NUL": "Hello\x00",
    "encoded LF, Q": "=?UTF-8?Q?=0A?=",
    "encoded CRLF, Q": "Hi =?utf-8?q?=0D=0ABcc:_x@example.org?=",
    "encoded CRLF, B": "=?utf-8?b?DQpCY2M6IHhAZXhhbXBsZS5vcmc=?=",
    "encoded U+2028": "=?utf-8?b?4oCo?=",
    "malformed encoded word": "=?utf-8?b?!!!?=",
}


@pytest.fixture
def segment(monkeypatch: pytest.MonkeyPatch) -> NewsletterSegment:
    monkeypatch.setenv("WAVECAST_BASE_URL", "https://wavecast.example.org")
    reset_caches()
    found = render_segment(load_bundle(MINIMAL), "first", "youth", "nl", "newsletter")
    assert isinstance(found, NewsletterSegment)
    return found


def send(segment: NewsletterSegment, **overrides: object) -> bytes:
    args: dict[str, object] = {
        "to": "anna@example.org",
        "fields": {"first_name": "Anna", "organisation_name": "Atelier"},
        "unsubscribe_url": "https://wavecast.example.org/u/abc.def",
        "message_id": message_id("mini", "first", 42, "newsletter", "example.org"),
    }
    args.update(overrides)
    return segment.personalise(**args)  # type: ignore[arg-type]


def parse(raw: bytes) -> EmailMessage:
    return message_from_bytes(raw, policy=policy.default)  # type: ignore[return-value]


@pytest.mark.parametrize("value", INJECTIONS.values(), ids=INJECTIONS.keys())
def test_header_injection_is_refused_naming_the_field(value: str) -> None:
    with pytest.raises(UnsafeHeader) as caught:
        check_header("subject", value)
    assert caught.value.field == "subject"
    assert isinstance(caught.value, WavecastError)
    assert str(caught.value).startswith("subject: ")


@pytest.mark.parametrize("value", ["Hello there", "Zoë & co — 50% off?", "=?not an encoded word", "a=b?c"])
def test_ordinary_header_values_pass(value: str) -> None:
    assert check_header("subject", value) == value


@pytest.mark.parametrize("value", INJECTIONS.values(), ids=INJECTIONS.keys())
def test_personal_field_with_a_line_break_is_refused_per_recipient(segment: NewsletterSegment, value: str) -> None:
    with pytest.raises(UnsafeHeader) as caught:
        send(segment, fields={"first_name": value})
    assert caught.value.field == "contact.first_name"


@pytest.mark.parametrize(
    "field, value",
    [
        ("to", "anna@example.org\r\nBcc: x@example.org"),
        ("to", "anna@example.org\n"),
        ("to", "not an address"),
        ("message_id", "<a@b>\r\nBcc: x@example.org"),
        ("message_id", "no-brackets@example.org"),
        ("unsubscribe_url", "https://x.example/u/a\r\nBcc: x@example.org"),
        ("unsubscribe_url", "https://x.example/u/a b"),
        ("unsubscribe_url", "javascript:alert(1)"),
    ],
)
def test_recipient_headers_are_checked(segment: NewsletterSegment, field: str, value: str) -> None:
    with pytest.raises(UnsafeHeader):
        send(segment, **{field: value})


def test_subject_with_an_encoded_newline_fails_validation_at_its_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    camp = copy_campaign(tmp_path)
    monkeypatch.chdir(tmp_path)
    path = camp / "messages/hello/all.fr.md"
    edit(path, 'subject: "Hello all (fr)"', 'subject: "Hello =?UTF-8?Q?=0A?=Bcc: x@example.org"')
    with pytest.raises(InvalidInput) as caught:
        validated(load_bundle(camp))
    found = [p for p in caught.value.problems if p.file == os.path.relpath(path)]
    assert found and found[0].line == line_of(path, "subject:")
    assert "decodes to a line break" in found[0].message


def test_sender_name_with_an_encoded_newline_fails_validation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    camp = copy_campaign(tmp_path)
    monkeypatch.chdir(tmp_path)
    edit(camp / "campaign.yaml", "name: Mini team", 'name: "Mini =?utf-8?b?DQo=?= team"')
    with pytest.raises(InvalidInput) as caught:
        validated(load_bundle(camp))
    problem = next(p for p in caught.value.problems if "sender name" in p.message)
    assert problem.line == line_of(camp / "campaign.yaml", 'name: "Mini =?')


def test_message_is_multipart_alternative_with_rfc8058_headers(segment: NewsletterSegment) -> None:
    raw = send(segment, date=dt.datetime(2023, 6, 12, 8, 0, tzinfo=dt.UTC))
    msg = parse(raw)
    assert msg.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "text/html"]
    assert msg["From"] == "Mini team <team@example.org>"
    assert msg["To"] == "anna@example.org"
    assert msg["Subject"] == "Hello youth (nl)"
    assert msg["Date"] == "Mon, 12 Jun 2023 08:00:00 +0000"
    assert msg["Message-ID"] == "<mini.first.42.newsletter@example.org>"
    assert msg["Content-Language"] == "nl"
    assert msg["MIME-Version"] == "1.0"
    assert msg["List-Unsubscribe"] == (
        "<https://wavecast.example.org/u/abc.def>, <mailto:unsubscribe@example.org?subject=unsubscribe>"
    )
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert msg["X-Wavecast-Content"] == segment.content_hash
    assert all(p["MIME-Version"] is None for p in msg.iter_parts())


def test_wire_format_is_crlf_with_short_lines(segment: NewsletterSegment) -> None:
    raw = send(segment, fields={"first_name": "Zoë " * 30, "organisation_name": "Ørsted"})
    assert b"\n" not in raw.replace(b"\r\n", b"")
    assert b"\r" not in raw.replace(b"\r\n", b"")
    assert raw.isascii()
    assert max(len(line) for line in raw.split(b"\r\n")) <= 998
    body = raw.partition(b"\r\n\r\n")[2]
    assert max(len(line) for line in body.split(b"\r\n")) <= 76


def test_proof_subject_is_marked_as_a_test(segment: NewsletterSegment) -> None:
    assert parse(send(segment, test=True))["Subject"] == "[TEST] Hello youth (nl)"
    assert parse(send(segment))["Subject"] == "Hello youth (nl)"


def test_same_inputs_give_the_same_bytes(segment: NewsletterSegment) -> None:
    when = dt.datetime(2023, 6, 12, 8, 0, tzinfo=dt.UTC)
    assert send(segment, date=when) == send(segment, date=when)


def test_message_id_is_deterministic_and_checked() -> None:
    assert message_id("c", "w", 7, "newsletter", "x.be") == "<c.w.7.newsletter@x.be>"
    with pytest.raises(UnsafeHeader):
        message_id("c", "w", "7\r\nBcc: a@b", "newsletter", "x.be")


def test_display_name_addresses_are_encoded() -> None:
    assert check_address("To", "Zoë Peeters <zoe@example.org>") == "=?utf-8?q?Zo=C3=AB_Peeters?= <zoe@example.org>"
    assert check_address("To", "anna@bücher.example") == "anna@xn--bcher-kva.example"
    # RFC 6532: a mailbox name outside ASCII stays UTF-8; only it calls for SMTPUTF8, never the domain.
    assert check_address("To", "zoë@bücher.example") == "zoë@xn--bcher-kva.example"
    assert needs_smtputf8("zoë@example.org") and not needs_smtputf8("anna@bücher.example")
    assert envelope_address("anna@bücher.example") == "anna@xn--bcher-kva.example"
    for bad in ("zo ë@example.org", "zoë@exa mple.org", "zoë@", "@bücher.example"):
        with pytest.raises(UnsafeHeader):
            check_address("To", bad)


printable = st.text(
    st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp"), blacklist_characters="\x85"), max_size=120
)


stripped = printable.filter(lambda s: s == s.strip())


@settings(max_examples=200, deadline=None)
@given(stripped)
def test_encoded_subject_reads_back_exactly(value: str) -> None:
    raw = encode_header("Subject", value) + b"\r\n"
    assert all(len(line) <= 78 for line in raw.split(b"\r\n"))
    assert message_from_bytes(raw, policy=policy.default)["Subject"] == value


@pytest.fixture(scope="module")
def personal_segment(tmp_path_factory: pytest.TempPathFactory) -> NewsletterSegment:
    """A newsletter with the first name in its subject, body and preheader."""
    camp = copy_campaign(tmp_path_factory.mktemp("personal"))
    path = camp / "messages/hello/youth.nl.md"
    edit(
        path,
        'subject: "Hello youth (nl)"',
        'subject: "{{ contact.first_name }}, hello from {{ contact.organisation_name }}"',
    )
    edit(path, 'preheader: "A short preheader (nl)"', 'preheader: "For {{ contact.first_name }}"')
    found = render_segment(load_bundle(camp), "first", "youth", "nl", "newsletter")
    assert isinstance(found, NewsletterSegment)
    return found


@settings(max_examples=100, deadline=None)
@given(first=stripped, organisation=stripped)
def test_personal_values_read_back_exactly(personal_segment: NewsletterSegment, first: str, organisation: str) -> None:
    segment = personal_segment
    fields = {"first_name": first, "organisation_name": organisation}
    subject, html, text = segment.render(fields, "https://x.example/u/t")
    msg = parse(segment.personalise("a@example.org", fields, "https://x.example/u/t", "<a@b>"))
    plain, rich = (p.get_content() for p in msg.iter_parts())
    assert plain.replace("\r\n", "\n") == text
    assert rich.replace("\r\n", "\n") == html
    assert msg["Subject"] == subject
    assert subject.startswith((first or "lezer") + ", hello from ")


@pytest.fixture
def smtp_server() -> Iterator[object]:
    from tests.smtp_sink import SmtpSink

    sink = SmtpSink()
    sink.start()
    yield sink
    sink.stop()


def test_message_survives_a_real_smtp_server(segment: NewsletterSegment, smtp_server: object) -> None:
    from tests.smtp_sink import SmtpSink

    assert isinstance(smtp_server, SmtpSink)
    fields = {"first_name": "<script>alert(1)</script>", "organisation_name": "R&D"}
    raw = send(segment, fields=fields)
    with smtplib.SMTP("127.0.0.1", smtp_server.port, timeout=10) as client:
        client.sendmail("team@example.org", ["anna@example.org"], raw)
    smtp_server.wait_for(1, timeout=10)
    received = smtp_server.received[0]
    assert received.raw.replace(b"\r\n", b"\n") == raw.replace(b"\r\n", b"\n")
    text = parse(received.raw).get_body(("plain",))
    assert text is not None and "Hello <script>alert(1)</script>," in text.get_content()
