"""Several relay connections per sending process (WAVECAST_SMTP_CONNECTIONS), against the
benchmark's SMTP sink in its own process, made to answer each message 30 ms late as a relay
across a network does, and to refuse connections beyond a limit with 421.

The wave is sent in this process (no broker: the chunks run in-process), so the connections are
this process's threads; SQLite and PostgreSQL.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from audiences.models import Contact
from bench.sink import SinkClient
from campaign.db import get_engine
from tests.accounts_setup import TESTER
from tests.conftest import reset_caches
from tests.sending_setup import add_contacts, approved_campaign, person_statuses

pytestmark = [pytest.mark.services]

CONTACTS = 120


@pytest.fixture(scope="module")
def sink(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SinkClient]:
    with SinkClient(tmp_path_factory.mktemp("sink") / "sink.log") as started:
        yield started


@pytest.fixture
def relay(sink: SinkClient, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[SinkClient]:
    sink.reset()
    sink.fault("delay", ms=30)
    sink.fault("max_connections", count=0)
    monkeypatch.setenv("WAVECAST_SMTP_URL", sink.url)
    monkeypatch.setenv("WAVECAST_ALLOW_INSECURE_RELAY", "1")
    monkeypatch.setenv("WAVECAST_RETRY_BASE_SECONDS", "0.2")
    monkeypatch.setenv("WAVECAST_RETRY_MAX_SECONDS", "1")
    yield sink
    sink.fault("delay", ms=0)
    sink.fault("max_connections", count=0)


def send_wave(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **settings: str) -> dict[str, int]:
    """Launch the minimal campaign's first wave to CONTACTS people; its e-mail rows by status."""
    from waves.launch import launch_wave

    for key, value in settings.items():
        monkeypatch.setenv(key, value)
    reset_caches()
    add_contacts(CONTACTS)
    return person_statuses(launch_wave(approved_campaign(tmp_path), "first", TESTER).run_id)


def arrivals(sink: SinkClient) -> Counter[str]:
    return Counter(to for _at, to, _message_id in sink.records())


def test_a_process_sends_over_all_its_connections_at_once_and_once_per_person(
    relay: SinkClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    statuses = send_wave(tmp_path, monkeypatch, WAVECAST_SMTP_CONNECTIONS="4")
    assert statuses == {"sent": CONTACTS}
    copies = arrivals(relay)
    assert len(copies) == CONTACTS and set(copies.values()) == {1}
    stats = relay.stats()
    # Four messages were waiting for the relay's reply at the same moment, never more.
    assert stats["peak_in_flight"] == 4, stats
    assert stats["sessions"] == 4, stats


def test_one_connection_is_the_default(relay: SinkClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert send_wave(tmp_path, monkeypatch) == {"sent": CONTACTS}
    assert relay.stats()["peak_in_flight"] == 1


def test_a_relay_that_takes_fewer_connections_says_421_and_gets_fewer(
    relay: SinkClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    relay.fault("max_connections", count=2)
    statuses = send_wave(tmp_path, monkeypatch, WAVECAST_SMTP_CONNECTIONS="4")
    assert statuses == {"sent": CONTACTS}, statuses  # nothing failed, nothing was tried twice
    copies = arrivals(relay)
    assert len(copies) == CONTACTS and set(copies.values()) == {1}
    stats = relay.stats()
    assert stats["busy"] >= 2, stats  # the two connections too many were refused...
    assert stats["peak_in_flight"] == 2, stats  # ...and the other two carried the wave


def test_a_connection_carries_at_most_the_messages_the_relay_allows(
    relay: SinkClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    relay.fault("delay", ms=0)
    statuses = send_wave(
        tmp_path, monkeypatch, WAVECAST_SMTP_CONNECTIONS="2", WAVECAST_SMTP_MESSAGES_PER_CONNECTION="10"
    )
    assert statuses == {"sent": CONTACTS}
    assert set(arrivals(relay).values()) == {1}
    assert relay.stats()["sessions"] >= CONTACTS // 10


# A sending process in a process of its own, as a Celery pool process is: it takes SIGTERM with
# the default action, and Celery sends one to a running task when it loses the broker.
LAUNCH = """
import sys
from pathlib import Path
from campaign.bundle import load_bundle
from tests.accounts_setup import TESTER
from waves.launch import launch_wave
launch_wave(load_bundle(Path(sys.argv[1])), "first", TESTER)
"""


@pytest.mark.parametrize("connections", ["1", "4"])
def test_a_terminated_sending_process_first_writes_down_what_the_relay_took(
    relay: SinkClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, connections: str
) -> None:
    """SIGTERM mid-chunk: the messages on the wire finish, their rows are marked sent before the
    process goes, and the rest go back to pending. The ledger alone then knows what to send, so a
    journal lost with its broker (Redis restarted without persistence) costs no second copy."""
    from waves.models import Delivery

    contacts = 400
    monkeypatch.setenv("WAVECAST_SMTP_CONNECTIONS", connections)
    reset_caches()
    add_contacts(contacts)
    camp = approved_campaign(tmp_path).root
    root = Path(__file__).resolve().parent.parent
    process = subprocess.Popen([sys.executable, "-c", LAUNCH, str(camp)], cwd=root)
    try:
        deadline = time.monotonic() + 120
        while relay.count() < 30:  # well inside the first chunk, its marks not yet due
            assert process.poll() is None, "the wave ended before it could be stopped"
            assert time.monotonic() < deadline, "no message reached the relay"
            time.sleep(0.02)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == -signal.SIGTERM  # it went, killed by the signal itself
    finally:
        process.kill()
    arrived = arrivals(relay)
    assert set(arrived.values()) == {1}
    with get_engine().connect() as conn:
        rows = conn.execute(
            select(Contact.email, Delivery.status)
            .join(Contact, Contact.id == Delivery.contact_id)
            .where(Delivery.account.is_(None))
        ).all()
    sent = {email for email, status in rows if status == "sent"}
    assert sent == set(arrived), "the ledger and the relay disagree on what was sent"
    assert {status for _email, status in rows} <= {"sent", "pending"}, "rows left claimed by a dead process"
    assert 30 <= len(sent) < contacts


def test_an_unsubscribe_while_a_message_waits_for_its_turn_is_seen(
    relay: SinkClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two connections share a rate of one message a second: while one sends, the other's row
    waits for its turn. Whoever unsubscribes during that wait gets nothing: the consent check
    comes after the wait, right before the message leaves."""
    import threading

    from audiences.consent import unsubscribe_email
    from waves.launch import launch_wave

    monkeypatch.setenv("WAVECAST_SMTP_CONNECTIONS", "2")
    reset_caches()
    add_contacts(3)
    bundle = approved_campaign(tmp_path, rate=1.0)
    sending = threading.Thread(target=launch_wave, args=(bundle, "first", TESTER))
    sending.start()
    try:
        deadline = time.monotonic() + 60
        while not arrivals(relay):
            assert time.monotonic() < deadline, "no message reached the relay"
            time.sleep(0.01)
        (first,) = arrivals(relay)
        waiting = next(f"person{i}@example.org" for i in (0, 1) if f"person{i}@example.org" != first)
        assert unsubscribe_email(waiting)  # the other connection holds this row, waiting its turn
    finally:
        sending.join(timeout=120)
    arrived = arrivals(relay)
    assert waiting not in arrived, "a message went out after its person unsubscribed"
    assert set(arrived) == {first, "person2@example.org"}
