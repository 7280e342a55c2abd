"""Bounces forwarded by a relay: the SMTP and LMTP receiver, spoken to as a relay would (smtplib).

Each test sends real-world delivery reports (tests/fixtures/bounces) to the signed return path
of a ledger row and checks whom they suppressed; the receiver accepts nothing else.
"""

from __future__ import annotations

import os
import signal
import smtplib
import threading
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select, text

from audiences.consent import is_suppressed
from audiences.models import Suppression
from audiences.normalise import email_hash
from campaign.db import get_engine
from tests.bounce_rows import fixture, return_path, sent_rows
from tests.cli import wavecast
from tests.conftest import free_port, port_open
from waves.bounces.models import BounceEvent
from waves.bounces.reports import MAX_REPORT_BYTES
from waves.bounces.smtp_receiver import Receiver

pytestmark = pytest.mark.services


def as_sent(raw: bytes) -> bytes:
    """The report as a relay sends it: CRLF line ends (the corpus files keep their LF)."""
    return raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def forged(delivery_id: int) -> str:
    """The row's return path with a signature that is not the installation's."""
    address = return_path(delivery_id)
    local, domain = address.split("@")
    return f"{local[:-1]}{'0' if local[-1] != '0' else '1'}@{domain}"


def suppressed() -> dict[str, tuple[str, str | None, str | None]]:
    """Suppressed addresses among person0..9: (reason, status code, source)."""
    columns = (Suppression.email_hash, Suppression.reason, Suppression.status_code, Suppression.source)
    with get_engine().connect() as conn:
        found = conn.execute(select(*columns)).all()
    people = {email_hash(f"person{i}@example.org"): f"person{i}@example.org" for i in range(10)}
    return {people[row.email_hash]: (row.reason, row.status_code, row.source) for row in found}


def events() -> int:
    with get_engine().connect() as conn:
        return conn.scalar(select(func.count()).select_from(BounceEvent)) or 0


@pytest.fixture
def receiver(request: pytest.FixtureRequest, database_url: str) -> Iterator[Receiver]:
    server = Receiver("127.0.0.1", free_port(), lmtp=getattr(request, "param", False))
    server.start()
    try:
        yield server
    finally:
        server.stop()


def test_a_forwarded_bounce_suppresses_the_address_its_signed_return_path_names(receiver: Receiver) -> None:
    rows = sent_rows(3)
    report = as_sent(fixture("postfix_01.eml"))
    with smtplib.SMTP(receiver.hostname, receiver.port, timeout=10) as relay:
        assert relay.sendmail("", [return_path(rows[1])], report) == {}
        assert suppressed() == {"person1@example.org": ("hard-bounce", "5.1.1", "smtp")}
        with get_engine().connect() as conn:
            assert is_suppressed(conn, "person1@example.org")
        relay.sendmail("", [return_path(rows[1])], report)  # the relay delivers it again
        assert events() == 1

        # Not an open relay, not a mailbox anyone can fill: only validly signed addresses.
        someone_else = return_path(rows[0]).replace(f"+{rows[0]}-", f"+{rows[2]}-")
        for address in (forged(rows[0]), someone_else, "bounces@bosa.example", "postmaster@example.org"):
            with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
                relay.sendmail("", [address], report)
            assert refused.value.recipients[address][0] == 550
        assert set(suppressed()) == {"person1@example.org"} and events() == 1

        # Larger than any report: refused when announced (SIZE) and when only sent (DATA).
        too_big = report + (b"x" * 78 + b"\r\n") * (MAX_REPORT_BYTES // 80 + 1)
        with pytest.raises(smtplib.SMTPSenderRefused) as refused_size:
            relay.sendmail("", [return_path(rows[0])], too_big)
        assert refused_size.value.smtp_code == 552
        relay.rset()
        relay.mail("")
        relay.rcpt(return_path(rows[0]))
        assert relay.data(too_big)[0] == 552
    assert set(suppressed()) == {"person1@example.org"}


@pytest.mark.parametrize("receiver", [True], indirect=True, ids=["lmtp"])
def test_lmtp_answers_each_recipient(receiver: Receiver) -> None:
    rows = sent_rows(3)
    with smtplib.LMTP(receiver.hostname, receiver.port, timeout=10) as relay:
        relay.ehlo_or_helo_if_needed()  # LHLO
        relay.mail("")
        assert relay.rcpt(return_path(rows[0]))[0] == 250
        assert relay.rcpt(forged(rows[1]))[0] == 550
        assert relay.rcpt(return_path(rows[2]))[0] == 250
        first = relay.data(as_sent(fixture("dsn_11.eml")))
        second = relay.getreply()
        assert (first[0], second[0]) == (250, 250)  # one reply per accepted recipient, and no more:
        assert relay.noop()[0] == 250  # the next reply is the NOOP's own

        # Too large: refused for each recipient too.
        relay.mail("")
        relay.rcpt(return_path(rows[1]))
        relay.rcpt(return_path(rows[2]))
        too_big = (b"x" * 78 + b"\r\n") * (MAX_REPORT_BYTES // 80 + 1)
        assert (relay.data(too_big)[0], relay.getreply()[0], relay.noop()[0]) == (552, 552, 250)
    assert suppressed() == {
        "person0@example.org": ("hard-bounce", "5.1.1", "lmtp"),
        "person2@example.org": ("hard-bounce", "5.1.1", "lmtp"),
    }


def test_a_database_error_answers_451_and_the_retry_is_recorded(receiver: Receiver) -> None:
    rows = sent_rows(1)
    report = as_sent(fixture("dsn_11.eml"))
    with get_engine().begin() as conn:
        conn.execute(text("ALTER TABLE bounce_events RENAME TO bounce_events_away"))
    try:
        with smtplib.SMTP(receiver.hostname, receiver.port, timeout=10) as relay:
            with pytest.raises(smtplib.SMTPDataError) as refused:
                relay.sendmail("", [return_path(rows[0])], report)
            assert refused.value.smtp_code == 451  # the relay keeps the report and tries again
    finally:
        with get_engine().begin() as conn:
            conn.execute(text("ALTER TABLE bounce_events_away RENAME TO bounce_events"))
    assert suppressed() == {}
    with smtplib.SMTP(receiver.hostname, receiver.port, timeout=10) as relay:
        assert relay.sendmail("", [return_path(rows[0])], report) == {}
    assert suppressed() == {"person0@example.org": ("hard-bounce", "5.1.1", "smtp")}


def test_serve_logs_one_line_per_message_without_addresses_and_stops_on_sigterm(
    capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    rows = sent_rows(1)
    port = free_port()
    sent: list[dict[str, tuple[int, bytes]]] = []

    def relay() -> None:
        deadline = time.monotonic() + 20
        while not port_open("127.0.0.1", port):
            if time.monotonic() > deadline:
                return  # serve failed to start and returned with an error: no one to stop
            time.sleep(0.02)  # poll interval while waiting for the port
        try:
            with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
                sent.append(client.sendmail("", [return_path(rows[0])], as_sent(fixture("postfix_01.eml"))))
        finally:
            os.kill(os.getpid(), signal.SIGTERM)

    # A SIGTERM that came after serve returned must not stop the test run itself.
    before = signal.signal(signal.SIGTERM, lambda *_: None)
    thread = threading.Thread(target=relay, daemon=True)
    thread.start()
    try:
        result = wavecast(capsys, "bounces", "serve", "--port", str(port))
        thread.join(timeout=20)
    finally:
        signal.signal(signal.SIGTERM, before)
    assert result.code == 0 and sent == [{}]
    lines = [r.getMessage() for r in caplog.records if r.name == "waves.bounces.smtp_receiver"]
    assert "smtp: 1 recorded, 1 suppressed, 0 already known" in lines
    assert not any("@" in line or "person0" in line for line in lines)
    assert not port_open("127.0.0.1", port)  # it let the port go
    assert suppressed() == {"person0@example.org": ("hard-bounce", "5.1.1", "smtp")}
