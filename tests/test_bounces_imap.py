"""Bounces delivered to a mailbox: `wavecast bounces poll` against a real Dovecot.

The reports are put into the mailbox with IMAP APPEND, as the mail server's delivery agent
would leave them: with a Delivered-To header naming the return path they came back to.
"""

from __future__ import annotations

import os
import re
import signal
import threading
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from audiences.consent import is_suppressed
from audiences.models import Suppression
from audiences.normalise import email_hash
from campaign.db import get_engine
from tests.bounce_rows import fixture, return_path, sent_rows
from tests.cli import wavecast
from tests.conftest import free_port, reset_caches
from tests.peers.dovecot import Dovecot, running_dovecot
from waves.bounces.imap_poller import mailbox_of
from waves.bounces.models import BounceEvent

pytestmark = pytest.mark.services

REPLY = b"From: person2@example.org\r\nSubject: Re: our newsletter\r\n\r\nThanks, I will have a look.\r\n"


@pytest.fixture(scope="module")
def dovecot() -> Iterator[Dovecot]:
    with running_dovecot() as server:
        yield server


@pytest.fixture
def mailbox(dovecot: Dovecot, monkeypatch: pytest.MonkeyPatch) -> Dovecot:
    """The account's INBOX, empty, and WAVECAST_BOUNCE_IMAP_URL pointing at it."""
    with dovecot.client() as client:
        _, count = client.select("INBOX")
        if int(count[0] or 0):
            client.store("1:*", "+FLAGS.SILENT", "(\\Deleted)")
            client.expunge()
    monkeypatch.setenv("WAVECAST_BOUNCE_IMAP_URL", dovecot.url())
    reset_caches()
    return dovecot


def delivered(to: str, raw: bytes) -> bytes:
    """The message as the mail server's delivery agent stores it."""
    return f"Delivered-To: {to}\r\n".encode() + raw


def forged(delivery_id: int) -> str:
    address = return_path(delivery_id)
    local, domain = address.split("@")
    return f"{local[:-1]}{'0' if local[-1] != '0' else '1'}@{domain}"


def left_in(server: Dovecot) -> dict[str, set[str]]:
    """Subject -> flags of every message still in the INBOX."""
    found: dict[str, set[str]] = {}
    with server.client() as client:
        client.select("INBOX", readonly=True)
        _, data = client.fetch("1:*", "(FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        for item in data:
            if isinstance(item, tuple):
                flags = set(re.findall(rb"\\\w+", item[0].split(b"BODY")[0]))
                subject = item[1].decode().strip().removeprefix("Subject: ")
                found[subject] = {f.decode() for f in flags}
    return found


@pytest.mark.usefixtures("database_url")
def test_poll_takes_the_reports_removes_them_and_leaves_the_rest_for_a_person(
    mailbox: Dovecot, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = sent_rows(3)
    report = fixture("postfix_01.eml")
    with mailbox.client() as client:
        for raw in (
            delivered(return_path(rows[0]), report),
            delivered(return_path(rows[0]), report),  # delivered twice
            delivered(forged(rows[1]), fixture("dsn_11.eml")),
            delivered(return_path(rows[2]), REPLY),
        ):
            assert client.append("INBOX", None, None, raw)[0] == "OK"

    first = wavecast(capsys, "bounces", "poll", "--once")
    assert first.code == 0, first.err
    assert "4 messages: 2 removed, 2 left for a person; 1 recorded, 1 suppressed, 1 already known" in first.out
    with get_engine().connect() as conn:
        assert [is_suppressed(conn, f"person{i}@example.org") for i in range(3)] == [True, False, False]
        found = conn.execute(
            select(Suppression.reason, Suppression.status_code, Suppression.source).where(
                Suppression.email_hash == email_hash("person0@example.org")
            )
        ).one()
        assert tuple(found) == ("hard-bounce", "5.1.1", "imap")
        assert conn.scalar(select(func.count()).select_from(BounceEvent)) == 1  # the same report counts once
    # The forged report and the reply stay, unread and flagged for a person; the reports are gone.
    assert left_in(mailbox) == {
        "Returned mail: User unknown": {"\\Flagged"},
        "Re: our newsletter": {"\\Flagged"},
    }

    second = wavecast(capsys, "bounces", "poll", "--once")
    assert second.code == 0 and "0 messages" in second.out
    assert len(left_in(mailbox)) == 2


def test_poll_keeps_polling_until_sigterm(mailbox: Dovecot, capsys: pytest.CaptureFixture[str]) -> None:
    rows = sent_rows(1)
    emptied: list[bool] = []

    def append_and_wait() -> None:
        try:
            with mailbox.client() as client:
                client.append("INBOX", None, None, delivered(return_path(rows[0]), fixture("dsn_11.eml")))
                deadline = time.monotonic() + 20
                while time.monotonic() < deadline and not emptied:
                    client.select("INBOX", readonly=True)
                    if client.search(None, "ALL")[1] == [b""]:
                        emptied.append(True)
                    time.sleep(0.05)  # poll interval while waiting for the poller
        finally:
            os.kill(os.getpid(), signal.SIGTERM)

    # A SIGTERM that came after the poller returned must not stop the test run itself.
    before = signal.signal(signal.SIGTERM, lambda *_: None)
    thread = threading.Thread(target=append_and_wait, daemon=True)
    thread.start()
    try:
        result = wavecast(capsys, "bounces", "poll", "--interval", "1")
        thread.join(timeout=20)
    finally:
        signal.signal(signal.SIGTERM, before)
    assert result.code == 0 and emptied == [True]
    with get_engine().connect() as conn:
        assert is_suppressed(conn, "person0@example.org")


def test_a_mailbox_that_cannot_be_polled_is_a_one_line_error(
    dovecot: Dovecot, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    cases = {
        dovecot.url(password="wrong-password"): "refused the login",
        f"imap://bounces:secret@127.0.0.1:{free_port()}/INBOX": "cannot reach the IMAP server",
        dovecot.url("NoSuchFolder"): "cannot open the mailbox",
        None: "WAVECAST_BOUNCE_IMAP_URL is not set",
    }
    for url, expected in cases.items():
        if url is None:
            monkeypatch.delenv("WAVECAST_BOUNCE_IMAP_URL", raising=False)
        else:
            monkeypatch.setenv("WAVECAST_BOUNCE_IMAP_URL", url)
        reset_caches()
        result = wavecast(capsys, "bounces", "poll", "--once")
        assert result.code != 0
        assert result.err.count("\n") == 1 and expected in result.err, result.err
        assert "wrong-password" not in result.err and dovecot.password not in result.err


def test_the_url_is_percent_decoded() -> None:
    box = mailbox_of("imaps://bounce%40bosa.example:p%2Fw%3Ad%40x@mail.bosa.example/Bounces%20in")
    assert (box.user, box.password, box.name) == ("bounce@bosa.example", "p/w:d@x", "Bounces in")
    assert (box.host, box.port, box.tls) == ("mail.bosa.example", 993, True)
    assert "p/w" not in repr(box) and "p/w" not in box.shown
