"""Several relay connections per sending process (WAVECAST_SMTP_CONNECTIONS), against the
benchmark's SMTP sink in its own process, made to answer each message 30 ms late as a relay
across a network does, and to refuse connections beyond a limit with 421.

The wave is sent in this process (no broker: the chunks run in-process), so the connections are
this process's threads; SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.sink import SinkClient
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
