"""Shared fixtures: real services, started or found; under CI=true a missing one fails the test."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import hypothesis
import pytest
from hypothesis import HealthCheck

from bench.services import free_port, port_open

__all__ = ["free_port", "port_open"]  # the helpers tests import from here

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
SMARTNATION = EXAMPLES / "smartnation"
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
POSTGRES_URL = os.environ.get("WAVECAST_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("WAVECAST_TEST_REDIS_URL", "redis://127.0.0.1:6379")
# The CLI's consoles read COLUMNS once, when they are made, if it is set then (pytest-xdist's
# workers set it): tests that widen the terminal with monkeypatch.setenv need it unset here.
os.environ.pop("COLUMNS", None)
os.environ.pop("LINES", None)

# `make test` runs every property test on the same examples each time, so CI passes or fails on
# the code, not on the draw: derandomized, with no example database (its contents differ from
# machine to machine), no deadline and no health check that times the machine. A case a fuzzer
# once found is kept in its file as an @example or a parametrized case. `make faults` sets
# WAVECAST_FUZZ_EXAMPLES and explores with fresh randomness instead.
_UNTIMED = hypothesis.settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
hypothesis.settings.register_profile("repeatable", _UNTIMED, derandomize=True, database=None)
hypothesis.settings.register_profile("explore", _UNTIMED)
hypothesis.settings.load_profile("explore" if os.environ.get("WAVECAST_FUZZ_EXAMPLES") else "repeatable")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """End-to-end tests that start worker or scheduler processes (marked `slow`) run on
    PostgreSQL, the production database, in `make test`; `make faults` sets
    WAVECAST_TEST_ALL_DATABASES and runs them on SQLite too. Deselected, not skipped."""
    if os.environ.get("WAVECAST_TEST_ALL_DATABASES"):
        return
    keep: list[pytest.Item] = []
    drop: list[pytest.Item] = []
    for item in items:
        callspec = getattr(item, "callspec", None)
        on_sqlite = callspec is not None and callspec.params.get("database_url") == "sqlite"
        (drop if on_sqlite and item.get_closest_marker("slow") else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def need(available: bool, what: str) -> None:
    """Skip when a service or tool is missing; under CI=true, fail instead."""
    if available:
        return
    if IN_CI:
        pytest.fail(f"{what} is required under CI=true but is not available")
    pytest.skip(f"{what} is not available")


def reset_caches() -> None:
    """Forget the settings and engines read so far, after the environment changed."""
    from campaign.db import dispose_engines
    from campaign.settings import get_settings

    get_settings.cache_clear()
    dispose_engines()


@pytest.fixture(autouse=True)
def _isolated_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """Every test starts from the embedded default in its own folder, with no services set."""
    for name in list(os.environ):
        if name.startswith("WAVECAST_") and not name.startswith("WAVECAST_TEST_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("WAVECAST_DATABASE_URL", f"sqlite:///{tmp_path / 'wavecast.db'}")
    monkeypatch.setenv("WAVECAST_OUTBOX_DIR", str(tmp_path / "outbox"))
    monkeypatch.setenv("WAVECAST_SECRET_KEY", "test-secret-key")
    # The suite's relays are SMTP sinks on loopback behind http base URLs; wavecast refuses a
    # real relay like that, so the tests say explicitly that theirs is a test relay.
    monkeypatch.setenv("WAVECAST_ALLOW_INSECURE_RELAY", "1")
    reset_caches()
    yield
    reset_caches()


def _postgres_schema_url() -> Iterator[str]:
    need(port_open("127.0.0.1", 5432), "PostgreSQL on 127.0.0.1:5432")
    import sqlalchemy as sa

    schema = "t_" + uuid.uuid4().hex[:12]
    admin = sa.create_engine(POSTGRES_URL.replace("postgresql://", "postgresql+psycopg://", 1))
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in POSTGRES_URL else "?"
    try:
        yield f"{POSTGRES_URL}{sep}options=-csearch_path%3D{schema}"
    finally:
        reset_caches()
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database: SQLite in the test's folder, or a fresh PostgreSQL schema."""
    from campaign.db import get_engine

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'test.db'}"
        monkeypatch.setenv("WAVECAST_DATABASE_URL", url)
        reset_caches()
        get_engine()
        yield url
        return
    gen = _postgres_schema_url()
    url = next(gen)
    monkeypatch.setenv("WAVECAST_DATABASE_URL", url)
    reset_caches()
    from campaign.db import engine_for, upgrade

    upgrade(engine_for(url))
    get_engine()
    yield url
    gen.close()


@pytest.fixture
def redis_url(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Redis with a key prefix of the test's own, so concurrent runs sharing the server never meet."""
    need(port_open("127.0.0.1", 6379), "Redis on 127.0.0.1:6379")
    import redis

    url = f"{REDIS_URL}/9"
    prefix = f"wctest-{uuid.uuid4().hex[:10]}:"
    monkeypatch.setenv("WAVECAST_REDIS_PREFIX", prefix)
    reset_caches()
    yield url
    client = redis.Redis.from_url(url)
    keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture
def chromium() -> str:
    path = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
    need(path is not None, "Debian's chromium")
    return str(path)


@pytest.fixture
def signed_in(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """The CLI acts as an account with every role, in the test's database (the one `database_url`
    chose, when the test uses it). Tests of who may do what make their own accounts instead."""
    from accounts.roles import ROLES
    from tests.accounts_setup import make_account, sign_in

    if "database_url" in request.fixturenames:
        request.getfixturevalue("database_url")
    actor, token = make_account("tester@example.org", *ROLES)
    sign_in(monkeypatch, token)
    yield actor
