"""A wave to a list with 10 % dead addresses pauses itself: the relay refuses them (5xx), each
refusal is a hard bounce, and the breaker stops the wave long before it has written to them all.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from audiences.models import Suppression
from campaign.db import get_engine
from tests.accounts_setup import TESTER
from tests.cli import wavecast
from tests.conftest import reset_caches
from tests.sending_setup import add_contacts, approved_campaign
from tests.smtp_sink import SinkHandler, SmtpSink
from waves.models import PAUSED, SENT, Delivery, WaveRun

pytestmark = pytest.mark.services

TOTAL = 200
DEAD = {f"person{i}@example.org" for i in range(TOTAL) if i % 10 == 3}  # every tenth: 10 %


def _emails(run_id: int) -> tuple[object, ...]:
    return (Delivery.run_id == run_id, Delivery.channel == "newsletter")


@pytest.fixture
def relay(monkeypatch: pytest.MonkeyPatch) -> Iterator[SmtpSink]:
    sink = SmtpSink()
    sink.handler.behaviour.reject = set(DEAD)
    sink.start()
    monkeypatch.setenv("WAVECAST_SMTP_URL", sink.url)
    monkeypatch.setenv("WAVECAST_ALLOW_INSECURE_RELAY", "1")  # a loopback test relay, plain http links
    monkeypatch.setenv("WAVECAST_BREAKER_MIN_MESSAGES", "40")
    reset_caches()
    try:
        yield sink
    finally:
        sink.stop()


@pytest.mark.usefixtures("signed_in")  # the command acts as an account
@pytest.mark.usefixtures("database_url")
def test_a_wave_with_ten_percent_dead_addresses_pauses_itself_until_an_operator_resumes(
    relay: SmtpSink, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from waves.launch import launch_wave

    add_contacts(TOTAL)
    bundle = approved_campaign(tmp_path)
    launched = launch_wave(bundle, "first", TESTER)  # embedded: the chunks run in this process

    with get_engine().connect() as conn:
        run = conn.execute(select(WaveRun.state, WaveRun.note).where(WaveRun.id == launched.run_id)).one()
        sent = conn.scalar(select(func.count()).where(*_emails(launched.run_id), Delivery.status == SENT))
        reasons = dict(conn.execute(select(Suppression.reason, func.count()).group_by(Suppression.reason)).all())
        codes = set(conn.scalars(select(Suppression.status_code)))
    assert run.state == PAUSED, run
    assert run.note.startswith("paused by the bounce breaker: "), run.note
    assert "hard bounces in the last" in run.note
    # It stopped soon after it had judged enough e-mails, not at the end of the list.
    assert 40 <= sent + reasons.get("hard-bounce", 0) < TOTAL // 2, (sent, reasons)
    assert len(relay.received) == sent
    assert reasons.get("hard-bounce", 0) >= 3 and codes == {"5.1.1"}
    assert not DEAD & {r.to for r in relay.received}

    shown = wavecast(capsys, "status")
    assert shown.code == 0
    assert "paused by the bounce breaker" in " ".join(shown.out.split())

    # The operator looked at the list and resumes: the wave goes on; the refused are never retried.
    refused_before = reasons["hard-bounce"]
    assert wavecast(capsys, "resume", "first").code == 0
    with get_engine().connect() as conn:
        sent_after = conn.scalar(select(func.count()).where(*_emails(launched.run_id), Delivery.status == SENT))
        refused_after = conn.scalar(select(func.count()).select_from(Suppression))
    assert sent_after > sent
    assert refused_after >= refused_before
    assert not DEAD & {r.to for r in relay.received}


class _RefusesOurSender(SinkHandler):
    async def handle_MAIL(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        return "550 5.7.1 sender not allowed"  # the relay refuses us, not the recipient


@pytest.mark.usefixtures("database_url")
def test_a_relay_refusing_our_sender_suppresses_no_recipient(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from waves.launch import launch_wave

    sink = SmtpSink()
    sink.handler = _RefusesOurSender()
    sink.start()
    monkeypatch.setenv("WAVECAST_SMTP_URL", sink.url)
    monkeypatch.setenv("WAVECAST_ALLOW_INSECURE_RELAY", "1")
    reset_caches()
    try:
        add_contacts(8)
        launched = launch_wave(approved_campaign(tmp_path), "first", TESTER)
    finally:
        sink.stop()
    with get_engine().connect() as conn:
        failed = conn.scalar(select(func.count()).where(*_emails(launched.run_id), Delivery.status == "failed"))
        suppressed = conn.scalar(select(func.count()).select_from(Suppression))
    assert failed == 8  # every e-mail failed, with the relay's reply kept on its row ...
    assert suppressed == 0  # ... and no one's address is blamed for it
