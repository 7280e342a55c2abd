"""Reports in, suppressions out: real-world delivery reports from several MTAs and ARF
complaints, through the one parser and the per-address policy.

The way in here is `take_message`, the door the SMTP/LMTP receiver and the IMAP poller use (they
have their own tests); the envelope recipient is the row's signed return path, as a relay
forwarding the bounce would give it.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, update

from audiences.consent import erase, is_suppressed
from audiences.models import Contact, Suppression
from campaign.db import get_engine
from tests.accounts_setup import TESTER
from tests.bounce_rows import fixture, return_path, sent_rows
from tests.conftest import reset_caches
from waves.bounces import intake, reports
from waves.bounces.models import BounceEvent, Kind
from waves.bounces.reports import Report
from waves.models import PAUSED, RUNNING, WaveRun

# A corpus of real bounces (see tests/fixtures/bounces/NOTICE): standard DSNs and the
# non-standard reports of Postfix, Exim, qmail, Microsoft, Yahoo, GroupWise, AOL and SMTP32.
CORPUS = {
    "postfix_01.eml": (Kind.HARD, "5.1.1"),
    "dsn_11.eml": (Kind.HARD, "5.1.1"),
    "exim_01.eml": (Kind.HARD, "5.1.1"),
    "yahoo_11.eml": (Kind.HARD, "5.1.1"),
    "simple_42.eml": (Kind.HARD, "5.0.0"),
    "smtp32_04.eml": (Kind.HARD, "5.3.0"),
    "qmail_01.eml": (Kind.HARD, "unknown"),
    "microsoft_01.eml": (Kind.HARD, "unknown"),
    "groupwise_01.eml": (Kind.HARD, "unknown"),
    "aol_01.eml": (Kind.HARD, "unknown"),
    "dsn_05.eml": (Kind.SOFT, "4.4.1"),  # delayed: the relay keeps trying
    "dsn_09.eml": (Kind.SOFT, "5.7.1"),  # a policy refusal is about the message, not the address
    "arf_abuse_rfc822.eml": (Kind.COMPLAINT, "abuse"),
    "arf_abuse_headers_only.eml": (Kind.COMPLAINT, "abuse"),
}


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_each_report_is_read_as_what_it_says(name: str) -> None:
    found = reports.read(fixture(name, 42), envelope_to=None if name.startswith("arf") else return_path(42))
    assert [(r.delivery_id, r.kind, r.status_code) for r in found] == [(42, *CORPUS[name])]
    assert found[0].reported_at is not None and found[0].reported_at.tzinfo is not None


def test_a_report_without_a_valid_token_names_nobody() -> None:
    forged = return_path(42).replace("+42-", "+43-")  # someone else's row, the same signature
    assert reports.read(fixture("postfix_01.eml"), envelope_to=forged)[0].delivery_id is None
    assert reports.read(fixture("postfix_01.eml"), envelope_to="bounces@bosa.example")[0].delivery_id is None
    assert reports.read(fixture("arf_not_spam.eml", 42)) == []  # "not spam" is no complaint


def _suppression(email: str) -> Suppression | None:
    from audiences.normalise import email_hash

    with get_engine().connect() as conn:
        return conn.execute(select(Suppression).where(Suppression.email_hash == email_hash(email))).first()


@pytest.mark.usefixtures("database_url")
def test_hard_bounces_suppress_the_right_address_with_their_evidence() -> None:
    rows = sent_rows(3)
    outcome = intake.take_message(fixture("postfix_01.eml"), source="smtp", envelope_to=return_path(rows[1]))
    assert (outcome.recorded, outcome.suppressed) == (1, 1)
    with get_engine().connect() as conn:
        assert [is_suppressed(conn, f"person{i}@example.org") for i in range(3)] == [False, True, False]
    found = _suppression("person1@example.org")
    assert found is not None
    assert (found.reason, found.status_code, found.source) == ("hard-bounce", "5.1.1", "smtp")
    assert found.reported_at == dt.datetime(2000, 10, 3, 22, 6, 58, tzinfo=dt.UTC)  # the report's Date
    again = intake.take_message(fixture("postfix_01.eml"), source="imap", envelope_to=return_path(rows[1]))
    assert (again.recorded, again.duplicates) == (0, 1)  # the same report twice counts once


@pytest.mark.usefixtures("database_url")
def test_forged_and_unrelated_messages_change_nothing() -> None:
    rows = sent_rows(2)
    forged = return_path(rows[0]).replace(f"+{rows[0]}-", f"+{rows[1]}-")
    outcome = intake.take_message(fixture("postfix_01.eml"), source="smtp", envelope_to=forged)
    assert outcome.ignored == {"no valid token": 1}
    vacation = (
        b"From: someone@example.org\r\nAuto-Submitted: auto-replied\r\nSubject: Out of office\r\n\r\nBack Monday.\r\n"
    )
    assert intake.take_message(vacation, source="smtp", envelope_to=return_path(rows[0])).recorded == 0
    with get_engine().connect() as conn:
        assert conn.scalar(select(BounceEvent.id)) is None
        assert conn.scalar(select(Suppression.email_hash)) is None


@pytest.mark.usefixtures("database_url")
def test_soft_bounces_suppress_after_the_limit_of_messages_within_the_window(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WAVECAST_SOFT_BOUNCE_LIMIT", "3")
    monkeypatch.setenv("WAVECAST_SOFT_BOUNCE_WINDOW_DAYS", "10")
    reset_caches()
    waves = [sent_rows(3, wave=f"w{n}") for n in range(3)]  # three waves to the same three people
    day = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)

    def soft(row: int, days: int, n: int) -> intake.Outcome:
        report = Report(row, Kind.SOFT, "4.2.2", day + dt.timedelta(days=days), f"soft-{row}-{n}")
        return intake.take([report], source="smtp")

    # person0: a message in each of three waves bounced within ten days -> suppressed at the third.
    assert [soft(waves[n][0], d, n).suppressed for n, d in enumerate((0, 4, 9))] == [0, 0, 1]
    # person1: three too, but spread over more than ten days -> still reachable.
    assert [soft(waves[n][1], d, n).suppressed for n, d in enumerate((0, 6, 12))] == [0, 0, 0]
    # person2: one message reported soft three times (a provider reporting each retry) counts once.
    assert [soft(waves[0][2], d, n).suppressed for n, d in enumerate((0, 1, 2))] == [0, 0, 0]
    with get_engine().connect() as conn:
        assert [is_suppressed(conn, f"person{i}@example.org") for i in range(3)] == [True, False, False]
    found = _suppression("person0@example.org")
    assert found is not None and (found.reason, found.status_code) == ("soft-bounces", "4.2.2")


@pytest.mark.usefixtures("database_url")
def test_a_complaint_suppresses_and_unsubscribes() -> None:
    rows = sent_rows(2)
    outcome = intake.take_message(fixture("arf_abuse_rfc822.eml", rows[0]), source="imap")
    assert (outcome.recorded, outcome.suppressed) == (1, 1)
    with get_engine().connect() as conn:
        unsubscribed = dict(conn.execute(select(Contact.email, Contact.unsubscribed_at)).all())
    assert unsubscribed["person0@example.org"] is not None and unsubscribed["person1@example.org"] is None
    found = _suppression("person0@example.org")
    assert found is not None and (found.reason, found.status_code) == ("complaint", "abuse")


@pytest.mark.usefixtures("database_url")
def test_an_erased_address_that_bounced_stays_suppressed_with_its_reason() -> None:
    rows = sent_rows(2)
    intake.take_message(fixture("dsn_11.eml"), source="smtp", envelope_to=return_path(rows[0]))
    assert erase("person0@example.org")
    found = _suppression("person0@example.org")
    assert found is not None and (found.reason, found.status_code) == ("hard-bounce", "5.1.1")
    # A bounce for an erased person's message finds no one to suppress (and keeps no address).
    erase("person1@example.org")
    late = intake.take_message(fixture("postfix_01.eml"), source="smtp", envelope_to=return_path(rows[1]))
    assert late.ignored == {"the person was erased": 1}


@pytest.mark.usefixtures("database_url")
def test_the_breaker_pauses_a_wave_past_the_complaint_line_and_an_operator_resume_starts_afresh(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from waves.control import set_state

    monkeypatch.setenv("WAVECAST_BREAKER_MIN_MESSAGES", "300")
    reset_caches()
    rows = sent_rows(400)
    run = _run_of(rows[0])
    assert intake.take_message(fixture("arf_abuse_rfc822.eml", rows[0]), source="imap").paused == []  # 0.25 %
    assert _state(run) == (RUNNING, None)
    outcome = intake.take_message(fixture("arf_abuse_headers_only.eml", rows[1]), source="imap")
    assert outcome.paused == [run]  # 2 of 400 = 0.5 %, above 0.3 %
    state, note = _state(run)
    assert state == PAUSED and note is not None
    assert note.startswith("paused by the bounce breaker: 2 spam complaints in the last 400 e-mails")
    set_state("test:bounces-0", (PAUSED,), RUNNING, by=TESTER, action="wave.resume")  # the operator resumes
    late = Report(rows[2], Kind.COMPLAINT, "abuse", None, "late-complaint")
    assert intake.take([late], source="ses").paused == []  # judged on what is sent from now: nothing yet
    assert _state(run)[0] == RUNNING


def _run_of(delivery_id: int) -> int:
    from waves.models import Delivery

    with get_engine().connect() as conn:
        return conn.execute(select(Delivery.run_id).where(Delivery.id == delivery_id)).scalar_one()


def _state(run_id: int) -> tuple[str, str | None]:
    with get_engine().connect() as conn:
        row = conn.execute(select(WaveRun.state, WaveRun.note).where(WaveRun.id == run_id)).one()
    return row.state, row.note


@pytest.mark.usefixtures("database_url")
def test_a_relay_refusal_at_send_time_is_a_hard_bounce() -> None:
    rows = sent_rows(1)
    with get_engine().begin() as conn:
        conn.execute(update(WaveRun).values(state=RUNNING))
    outcome = intake.refused_at_send(rows[0], "550 5.1.1 <recipient>: mailbox unavailable")
    assert outcome.suppressed == 1
    found = _suppression("person0@example.org")
    assert found is not None and (found.reason, found.status_code, found.source) == ("hard-bounce", "5.1.1", "relay")
    assert reports.kind_of_status(reports.status_of_reply("552 5.2.2 mailbox full")) == Kind.SOFT
    assert reports.kind_of_status(reports.status_of_reply("554 rejected")) == Kind.HARD
