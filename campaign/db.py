"""Database plumbing: the declarative base, the engine, sessions, and the schema check.

``WAVECAST_DATABASE_URL`` chooses the database (default ``sqlite:///wavecast.db``). SQLite
upgrades its schema by itself (the embedded default); any other database must be upgraded
with ``wavecast db upgrade``, and every command that finds it behind says so.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, DateTime, Engine, MetaData, Table, create_engine, event, inspect, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from campaign.errors import WavecastError
from campaign.settings import get_settings, mask_url

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Aware datetimes stored as UTC; SQLite hands them back naive, so we put the UTC back."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


DialectInsert = postgresql.Insert | sqlite.Insert


def dialect_insert(conn: Connection, table: Table | Any) -> DialectInsert:
    """The one place that picks the database's own INSERT, the one that knows ON CONFLICT
    (SQLite and PostgreSQL spell it alike); any other database is refused here, early."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    if conn.dialect.name == "sqlite":
        return sqlite.insert(table)
    raise DatabaseError(f"wavecast needs SQLite or PostgreSQL, not {conn.dialect.name}")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class DatabaseError(WavecastError):
    exit_code = 3


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # Deleted rows are overwritten with zeros, so an erased person's address does not linger in
    # free pages of the file (see waves.personal_data); wavecast deletes rarely, so it costs little.
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()


_ENGINES: dict[str, Engine] = {}


def engine_for(url: str) -> Engine:
    """One engine per URL and process."""
    if url not in _ENGINES:
        _ENGINES[url] = _create(url)
    return _ENGINES[url]


def dispose_engines() -> None:
    """Drop every engine and forget which schemas were checked (after a fork or a settings change)."""
    for engine in _ENGINES.values():
        engine.dispose()
    _ENGINES.clear()
    _checked.clear()


def _create(url: str) -> Engine:
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    try:
        if url.startswith("sqlite"):
            engine = create_engine(url, connect_args={"timeout": 30})
            event.listen(engine, "connect", _sqlite_pragmas)
        else:
            # A sending process checks each relay connection's messages on a database connection
            # of its own (waves/delivery.py) and may skip or fail a row on another at the same
            # moment, beside its claims and marks: room for all of them.
            overflow = 5 + 2 * get_settings().smtp_connections
            engine = create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=overflow)
    except (SQLAlchemyError, ValueError, ImportError) as exc:
        shown = mask_url(url)
        raise DatabaseError(f"WAVECAST_DATABASE_URL: cannot use {shown!r}: {mask_url(str(exc))}") from None
    return engine


def get_engine() -> Engine:
    engine = engine_for(get_settings().database_url)
    ensure_schema(engine)
    return engine


@contextmanager
def session_scope() -> Iterator[Session]:
    """A session that commits on success and rolls back on any error."""
    session = sessionmaker(get_engine(), expire_on_commit=False)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def alembic_config(engine: Engine) -> Any:
    # Lazy: alembic costs ~0.2 s, and validate, plan, preview and --help open no database.
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


def head_revision() -> str | None:
    # Lazy: alembic costs ~0.2 s, and validate, plan, preview and --help open no database.
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config(None)).get_current_head()  # type: ignore[arg-type]


def current_revision(engine: Engine) -> str | None:
    # Lazy: alembic costs ~0.2 s, and validate, plan, preview and --help open no database.
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine) -> tuple[str | None, str | None]:
    """Apply every migration; returns (revision before, revision after)."""
    # Lazy: alembic costs ~0.2 s, and validate, plan, preview and --help open no database.
    from alembic import command

    before = current_revision(engine)
    with engine.begin() as conn:
        config = alembic_config(engine)
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
    return before, current_revision(engine)


_checked: set[str] = set()


def ensure_schema(engine: Engine) -> None:
    """Refuse to work on a database whose schema is behind; SQLite upgrades itself."""
    key = str(engine.url)
    if key in _checked:
        return
    try:
        current = current_revision(engine)
        head = head_revision()
        if current != head:
            if engine.dialect.name == "sqlite":
                upgrade(engine)
            else:
                raise DatabaseError(
                    f"the database schema is at revision {current or 'none'}, this wavecast needs {head}: "
                    "run `wavecast db upgrade`"
                )
    except OperationalError as exc:
        raise DatabaseError(
            f"cannot reach the database ({engine.url.render_as_string(hide_password=True)}): {exc.orig}"
        ) from None
    _checked.add(key)


def table_names(engine: Engine) -> list[str]:
    return inspect(engine).get_table_names()


def ping(engine: Engine) -> None:
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
