"""What every sending benchmark sets up: a database of its own (a temporary PostgreSQL schema or
an SQLite file), a dedicated Redis database, the SMTP sink process, Celery worker processes,
contacts inserted in bulk and an approved copy of a campaign.

Benchmarks run in the process that imports this module; `Rig` points this process's settings
at the services it started and puts the environment back when it closes.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import platform
import re
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from accounts.roles import ROLES, Actor
from bench.services import ROOT, RedisServer, Worker, flush_redis, postgres_available
from bench.sink import SinkClient

EXAMPLE = ROOT / "examples" / "smartnation"
MINIMAL = ROOT / "tests" / "fixtures" / "minimal"
POSTGRES_URL = os.environ.get("WAVECAST_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
# Without redis-server on PATH: database 15 of the local Redis (the test suite uses 9 to 13, the demo 0).
FALLBACK_REDIS_URL = os.environ.get("WAVECAST_BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")
LANGS = ("nl", "fr", "de", "en")
ALWAYS_OPEN = '  send_window: {days: [mon, tue, wed, thu, fri, sat, sun], start: "00:00", end: "23:59"}\n'


def reset_caches() -> None:
    from campaign.db import dispose_engines
    from campaign.settings import get_settings

    get_settings.cache_clear()
    dispose_engines()


@contextlib.contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    """Set WAVECAST_* variables for this process (and its children), then put them back."""
    saved = {k: v for k, v in os.environ.items() if k.startswith("WAVECAST_")}
    for key in saved:
        del os.environ[key]
    os.environ.update(values)
    reset_caches()
    try:
        yield
    finally:
        for key in [k for k in os.environ if k.startswith("WAVECAST_")]:
            del os.environ[key]
        os.environ.update(saved)
        reset_caches()


@contextlib.contextmanager
def database(kind: str, workdir: Path) -> Iterator[str]:
    """A migrated, empty database: a fresh PostgreSQL schema (dropped afterwards) or an SQLite file."""
    if kind == "sqlite":
        yield f"sqlite:///{workdir / 'bench.db'}"
        return
    import sqlalchemy as sa

    from campaign.db import engine_for, upgrade

    schema = "bench_" + uuid.uuid4().hex[:10]
    admin = sa.create_engine(POSTGRES_URL.replace("postgresql://", "postgresql+psycopg://", 1))
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in POSTGRES_URL else "?"
    url = f"{POSTGRES_URL}{sep}options=-csearch_path%3D{schema}"
    try:
        engine = engine_for(url)
        upgrade(engine)
        engine.dispose()
        yield url
    finally:
        reset_caches()
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


# The account the benchmarks launch as: every role, and only in the audit entries it writes.
BENCH = Actor(0, "bench@service.invalid", frozenset(ROLES), service=True)


@dataclass
class Rig:
    """The services of one benchmark run."""

    workdir: Path
    db_kind: str
    database_url: str
    redis_url: str
    sink: SinkClient
    settings: dict[str, str]
    workers: list[Worker] = field(default_factory=list)

    @property
    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("WAVECAST_")}
        env.update(self.settings)
        env["PYTHONPATH"] = str(ROOT)
        return env

    def start_workers(
        self, count: int, app: str = "worker", prefix: str = "w", queues: str | None = None
    ) -> list[Worker]:
        """Start `count` worker processes at once (each one sending process) and wait for all."""
        started = [
            Worker(self.env, self.workdir / f"{prefix}{i}.log", f"{prefix}{i}-{os.getpid()}", app, 1, queues).spawn()
            for i in range(1, count + 1)
        ]
        for worker in started:
            worker.wait_ready()
        self.workers.extend(started)
        return started

    def stop_workers(self) -> None:
        for worker in self.workers:
            worker.stop()
        self.workers.clear()


@contextlib.contextmanager
def rig(db_kind: str | None = None, *, settings: dict[str, str] | None = None, name: str = "bench") -> Iterator[Rig]:
    """Database, Redis, sink; this process's settings point at them until the block ends."""
    kind = db_kind or ("postgresql" if postgres_available() else "sqlite")
    workdir = Path(tempfile.mkdtemp(prefix=f"wavecast-{name}-"))
    redis_server = RedisServer(workdir / "redis").start() if RedisServer.available() else None
    redis_url = redis_server.url if redis_server else FALLBACK_REDIS_URL
    flush_redis(redis_url)
    sink = SinkClient(workdir / "sink.log").start()
    try:
        with database(kind, workdir) as url:
            values = {
                "WAVECAST_DATABASE_URL": url,
                "WAVECAST_BROKER_URL": redis_url,
                "WAVECAST_SMTP_URL": sink.url,
                "WAVECAST_OUTBOX_DIR": str(workdir / "outbox"),
                "WAVECAST_SECRET_KEY": "bench-secret-key",
                "WAVECAST_BASE_URL": "https://wavecast.example.org",
                **(settings or {}),
            }
            current = Rig(workdir, kind, url, redis_url, sink, values)
            with environment(values):
                try:
                    yield current
                finally:
                    current.stop_workers()
    finally:
        sink.stop()
        if redis_server is not None:
            redis_server.kill()
        else:
            flush_redis(redis_url)
        shutil.rmtree(workdir, ignore_errors=True)


def insert_contacts(count: int, start: int = 0) -> None:
    """`count` contacts person<i>@example.org, languages in turn, inserted in bulk (COPY on PostgreSQL)."""
    from sqlalchemy import insert

    from audiences.models import contacts
    from audiences.normalise import email_hash
    from campaign.db import get_engine, utcnow

    engine = get_engine()
    now = utcnow()
    batch = 20_000
    for low in range(start, start + count, batch):
        high = min(low + batch, start + count)
        rows = [
            (f"person{i}@example.org", email_hash(f"person{i}@example.org"), f"Person{i}", LANGS[i % 4], 1980, now, now)
            for i in range(low, high)
        ]
        if engine.dialect.name == "postgresql":
            with engine.begin() as conn:
                raw = conn.connection.driver_connection
                assert raw is not None
                with (
                    raw.cursor() as cursor,
                    cursor.copy(
                        "COPY contacts (email, email_hash, first_name, language, birth_year, created_at, updated_at) "
                        "FROM STDIN"
                    ) as copy,
                ):
                    for row in rows:
                        copy.write_row(row)
        else:
            names = ("email", "email_hash", "first_name", "language", "birth_year", "created_at", "updated_at")
            with engine.begin() as conn:
                conn.execute(insert(contacts), [dict(zip(names, row, strict=True)) for row in rows])
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE contacts")


def campaign_copy(
    workdir: Path,
    source: Path = EXAMPLE,
    *,
    campaign_id: str | None = None,
    always_open: bool = False,
    unthrottled: bool = False,
) -> Path:
    """A copy of a campaign the benchmark may edit (its id, its send window, its newsletter rate)."""
    target = workdir / (campaign_id or source.name)
    shutil.copytree(source, target)
    path = target / "campaign.yaml"
    text = path.read_text(encoding="utf-8")
    if campaign_id is not None:
        old = next(line for line in text.splitlines() if line.startswith("  id: "))
        text = text.replace(old, f"  id: {campaign_id}", 1)
    if unthrottled:
        text = re.sub(r"(?m)^  newsletter: \{[^}\n]*\}$", "  newsletter: {}", text)
    if always_open:
        assert "send_window" not in text, "this campaign has its own send window"
        text = text.replace("  blackout_dates:\n", ALWAYS_OPEN + "  blackout_dates:\n", 1)
    path.write_text(text, encoding="utf-8")
    return target


def approved(directory: Path, waves: list[str] | None = None):  # type: ignore[no-untyped-def]
    """Load the campaign and approve its waves by as many people as it requires."""
    from campaign.bundle import load_bundle
    from campaign.db import session_scope
    from waves.approval import approve

    bundle = load_bundle(directory)
    for wave in waves or [w.id for w in bundle.spec.waves]:
        for index in range(bundle.spec.campaign.approvals):
            with session_scope() as session:
                approve(session, bundle, wave, Actor(index + 1, f"approver{index + 1}@bench.invalid", frozenset(ROLES)))
    return bundle


def scheduler_token() -> str:
    """A token of the scheduler's service account (operator role), for a scheduler process."""
    from accounts import directory, tokens
    from accounts.roles import Role
    from campaign.db import session_scope

    with session_scope() as session:
        account = directory.find(session, directory.service_email("scheduler"))
        account = account or directory.add(session, "scheduler", [Role.OPERATOR], service=True)
        return tokens.create(session, account, "bench")


def ledger_counts(run_id: int) -> dict[str, int]:
    from sqlalchemy import func, select

    from campaign.db import get_engine
    from waves.models import Delivery

    with get_engine().connect() as conn:
        rows = conn.execute(
            select(Delivery.status, func.count()).where(Delivery.run_id == run_id).group_by(Delivery.status)
        ).all()
    return {status: int(n) for status, n in rows}


def wait_settled(run_id: int, timeout: float = 3600, poll: float = 0.5) -> dict[str, int]:
    deadline = time.time() + timeout
    while time.time() < deadline:
        counts = ledger_counts(run_id)
        if not counts.get("pending") and not counts.get("sending"):
            return counts
        time.sleep(poll)
    raise TimeoutError(f"run {run_id} not settled in {timeout} s: {ledger_counts(run_id)}")


def machine() -> dict[str, str]:
    """What the figures were measured on."""

    def first_line(command: list[str]) -> str:
        try:
            return subprocess.run(command, capture_output=True, text=True, timeout=10, check=False).stdout.strip()
        except OSError:
            return "n/a"

    memory = "n/a"
    with contextlib.suppress(OSError), open("/proc/meminfo", encoding="ascii") as handle:
        memory = f"{int(handle.readline().split()[1]) / 1024 / 1024:.1f} GiB"
    cpu = "n/a"
    with contextlib.suppress(OSError), open("/proc/cpuinfo", encoding="utf-8") as handle:
        cpu = next((line.split(":", 1)[1].strip() for line in handle if line.startswith("model name")), "n/a")
    postgres = "n/a"
    if postgres_available():
        import sqlalchemy as sa

        admin = sa.create_engine(POSTGRES_URL.replace("postgresql://", "postgresql+psycopg://", 1))
        with admin.connect() as conn:
            postgres = str(conn.scalar(sa.text("SHOW server_version")))
        admin.dispose()
    redis_version = "n/a"
    with contextlib.suppress(OSError):
        redis_version = (
            subprocess.run(["redis-server", "--version"], capture_output=True, text=True, check=False)
            .stdout.split("v=")[1]
            .split()[0]
        )
    return {
        "cpus": f"{os.cpu_count()} x {cpu}",
        "memory": memory,
        "load average": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "os": platform.platform(),
        "python": platform.python_version(),
        "postgresql": postgres,
        "redis": redis_version,
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }
