"""Fixtures of the fault suite: a Redis server of its own, PostgreSQL (directly or through a proxy
that can cut the line), the SMTP sink process; and the table of results at the end of the run."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.services import RedisServer
from bench.sink import SinkClient
from tests.conftest import ROOT, _postgres_schema_url, need, reset_caches

from .proxy import ProxyProcess
from .rig import CONNECTIONS, FULL, RESULTS, FaultRig, table

RELIABILITY = ROOT / "docs" / "RELIABILITY.md"
TABLE_START = "<!-- fault table: start -->"
TABLE_END = "<!-- fault table: end -->"


def settings_for(redis: RedisServer, sink: SinkClient) -> dict[str, str]:
    """Short leases and retries so that recovery happens within the test; more room at full size."""
    return {
        "WAVECAST_BROKER_URL": redis.url,
        "WAVECAST_SMTP_URL": sink.url,
        "WAVECAST_ALLOW_INSECURE_RELAY": "1",  # the sink is a test relay on loopback, behind an http base URL
        "WAVECAST_SEND_LEASE_SECONDS": "10" if FULL else "3",
        "WAVECAST_SWEEP_INTERVAL_SECONDS": "2" if FULL else "1",
        "WAVECAST_SCHEDULER_LEASE_SECONDS": "5" if FULL else "3",
        "WAVECAST_RETRY_BASE_SECONDS": "1" if FULL else "0.5",
        "WAVECAST_RETRY_MAX_SECONDS": "8" if FULL else "2",
        # The retry budget (the sum of the backoffs) must outlast the longest outage a scenario makes.
        "WAVECAST_MAX_ATTEMPTS": "12",
        "WAVECAST_CHUNK_SIZE": "500" if FULL else "100",
        "WAVECAST_SMTP_TIMEOUT_SECONDS": "10",
        "WAVECAST_SMTP_CONNECTIONS": str(CONNECTIONS),
    }


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    need(RedisServer.available(), "redis-server (to start a Redis of the suite's own)")
    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    yield server
    server.kill()


@pytest.fixture(params=["postgresql"])
def fault_rig(
    request: pytest.FixtureRequest, redis_server: RedisServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[FaultRig]:
    """The services on loopback, this process's settings pointed at them; a `proxied` param puts
    a cuttable proxy between the workers and PostgreSQL; `sqlite` uses a database file."""
    kind = request.param
    redis_server.flush()
    sink = SinkClient(tmp_path / "sink.log").start()
    proxy: ProxyProcess | None = None
    schema = None
    try:
        if kind == "sqlite":
            url = f"sqlite:///{tmp_path / 'faults.db'}"
            service_url = url
        else:
            schema = _postgres_schema_url()
            url = next(schema)
            service_url = url
            if kind == "postgresql-proxied":
                proxy = ProxyProcess("127.0.0.1:5432", tmp_path / "proxy.log").start()
                service_url = url.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}", 1)
                assert service_url != url
        # The wave's posts go to an outbox feed of this test's own, held against the ledger.
        settings = {**settings_for(redis_server, sink), "WAVECAST_OUTBOX_DIR": str(tmp_path / "outbox")}
        for key, value in {**settings, "WAVECAST_DATABASE_URL": url}.items():
            monkeypatch.setenv(key, value)
        reset_caches()
        from campaign.db import engine_for, get_engine, upgrade

        if kind != "sqlite":
            upgrade(engine_for(url))
        get_engine()
        rig = FaultRig(
            tmp_path,
            "sqlite" if kind == "sqlite" else "postgresql",
            sink,
            redis_server,
            service_url,
            settings,
            proxy=proxy,
        )
        try:
            yield rig
        finally:
            rig.stop()
    finally:
        sink.stop()
        if proxy is not None:
            proxy.stop()
        reset_caches()
        if schema is not None:
            schema.close()


def merged(old_block: str, lines: list[str]) -> list[str]:
    """The table already in the file with this run's rows put in (same scenario and database) or added,
    so that re-running one scenario updates its row and keeps the others."""

    def key(line: str) -> tuple[str, str]:
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        return (cells[0], cells[1]) if len(cells) > 1 else (line, "")

    header, rows = lines[:2], lines[2:]
    fresh = {key(line): line for line in rows}
    kept = []
    for line in old_block.splitlines()[2:]:
        if line.startswith("|"):
            kept.append(fresh.pop(key(line), line))
    return [*header, *kept, *fresh.values()]


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print the table; after a full run (`make faults`), write its rows into docs/RELIABILITY.md."""
    if not RESULTS:
        return
    lines = table(RESULTS)
    terminalreporter.write_sep("=", f"fault scenarios ({'full size' if FULL else 'small size'})")
    for line in lines:
        terminalreporter.write_line(line)
    if not (FULL and RELIABILITY.exists()):
        return
    text = RELIABILITY.read_text(encoding="utf-8")
    pattern = re.compile(re.escape(TABLE_START) + "\n(.*?)" + re.escape(TABLE_END), re.S)
    found = pattern.search(text)
    if found is None:
        return
    block = "\n".join([TABLE_START, *merged(found.group(1), lines), TABLE_END])
    RELIABILITY.write_text(text[: found.start()] + block + text[found.end() :], encoding="utf-8")
    terminalreporter.write_line(f"table written into {RELIABILITY.relative_to(ROOT)}")
