"""Accounts from the command line: first run, tokens, sign-in, and an audit log that cannot be edited unseen."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from sqlalchemy import select, update

from accounts.models import AuditEntry
from campaign.db import get_engine
from campaign.settings import get_settings
from tests.accounts_setup import PASSWORD
from tests.cli import wavecast

ADMIN = "admin@example.org"


@pytest.fixture
def token_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, database_url: str) -> Path:
    path = tmp_path / "config" / "token"
    monkeypatch.setenv("WAVECAST_TOKEN_FILE", str(path))
    get_settings.cache_clear()
    return path


def _stdin(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    import io
    import sys

    monkeypatch.setattr(sys, "stdin", io.StringIO(text))


def test_first_run_creates_the_admin_signed_in_and_only_once(
    token_file: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    refused = wavecast(capsys, "accounts", "add", "ann@example.org", "--role", "approver")
    assert refused.code == 4 and "run `wavecast login` or set WAVECAST_TOKEN" in refused.err
    _stdin(monkeypatch, PASSWORD + "\n")
    created = wavecast(capsys, "accounts", "create-admin", ADMIN, "--password-stdin")
    assert created.code == 0, created.err
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    again = wavecast(capsys, "accounts", "create-admin", "eve@example.org", "--tokens-only")
    assert again.code == 1 and "an admin exists already" in again.err
    added = wavecast(capsys, "accounts", "add", " Ann@Example.org ", "--role", "approver", "--role", "editor")
    assert added.code == 0 and "ann@example.org: approver, editor" in added.out
    twice = wavecast(capsys, "accounts", "add", "ANN@example.org", "--role", "viewer")
    assert twice.code == 1 and "already has an account" in twice.err
    listed = wavecast(capsys, "accounts", "list")
    assert "ann@example.org" in listed.out and "admin@example.org" in listed.out


def test_a_token_is_printed_once_works_until_revoked_or_expired(
    token_file: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    wavecast(capsys, "accounts", "create-admin", ADMIN, "--tokens-only")
    wavecast(capsys, "accounts", "add", "ann@example.org", "--role", "approver")
    made = wavecast(capsys, "tokens", "create", "ann@example.org", "--name", "laptop", "--expires", "30")
    token = made.out.strip()
    assert made.code == 0 and token.startswith("wct_") and token not in made.err
    with get_engine().connect() as conn:  # stored as a digest only
        dump = "\n".join(str(row) for row in conn.exec_driver_sql("SELECT * FROM api_tokens"))
    assert token not in dump
    monkeypatch.setenv("WAVECAST_TOKEN", token)
    get_settings.cache_clear()
    assert wavecast(capsys, "accounts", "list").code == 0
    refused = wavecast(capsys, "contacts", "erase", "x@example.org")
    assert refused.code == 4 and "needs the operator role" in refused.err
    monkeypatch.delenv("WAVECAST_TOKEN")
    get_settings.cache_clear()
    assert wavecast(capsys, "tokens", "revoke", "ann@example.org", "--name", "laptop").code == 0
    monkeypatch.setenv("WAVECAST_TOKEN", token)
    get_settings.cache_clear()
    revoked = wavecast(capsys, "accounts", "list")
    assert revoked.code == 4 and "revoked" in revoked.err and "wavecast login" in revoked.err


def test_login_with_a_password_stores_a_token_for_the_user(
    token_file: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _stdin(monkeypatch, PASSWORD + "\n")
    wavecast(capsys, "accounts", "create-admin", ADMIN, "--password-stdin")
    token_file.unlink()
    _stdin(monkeypatch, "wrong password here\n")
    refused = wavecast(capsys, "login", ADMIN, "--password-stdin")
    assert refused.code == 4 and "not right" in refused.err and not token_file.exists()
    _stdin(monkeypatch, PASSWORD + "\n")
    signed = wavecast(capsys, "login", " Admin@Example.org", "--password-stdin")
    assert signed.code == 0 and stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert wavecast(capsys, "accounts", "list").code == 0
    assert wavecast(capsys, "logout").code == 0 and not token_file.exists()
    assert wavecast(capsys, "accounts", "list").code == 4


def test_audit_verify_detects_an_edited_or_removed_row(token_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    wavecast(capsys, "accounts", "create-admin", ADMIN, "--tokens-only")
    for who in ("ann", "bob", "carl"):
        wavecast(capsys, "accounts", "add", f"{who}@example.org", "--role", "approver")
    intact = wavecast(capsys, "audit", "verify")
    assert intact.code == 0 and "intact: 4 entries" in intact.out
    shown = wavecast(capsys, "audit", "--json", "--action", "accounts.")
    assert '"actor": "admin@example.org"' in shown.out
    with get_engine().begin() as conn:
        conn.execute(update(AuditEntry).where(AuditEntry.seq == 2).values(after='{"roles": ["admin"]}'))
    edited = wavecast(capsys, "audit", "verify")
    assert edited.code == 1 and "entry 2 (accounts.add by admin@example.org) was changed" in edited.out
    with get_engine().begin() as conn:
        conn.execute(update(AuditEntry).where(AuditEntry.seq == 2).values(after='{"roles": ["approver"]}'))
    assert wavecast(capsys, "audit", "verify").code == 0  # put back as it was: whole again
    with get_engine().begin() as conn:
        last = conn.scalar(select(AuditEntry.seq).order_by(AuditEntry.seq.desc()).limit(1))
        conn.execute(AuditEntry.__table__.delete().where(AuditEntry.seq == last))
    removed = wavecast(capsys, "audit", "verify")
    assert removed.code == 1 and "ends at entry 3 but was written up to entry 4" in removed.out


def test_an_erasure_is_recorded_with_the_keyed_hash_only(token_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from audiences.upsert import add_contacts

    add_contacts([{"email": "person@example.org", "language": "nl", "birth_year": 1990}])
    wavecast(capsys, "accounts", "create-admin", ADMIN, "--role", "operator", "--tokens-only")
    assert wavecast(capsys, "contacts", "erase", "Person@Example.org").code == 0
    with get_engine().connect() as conn:
        rows = [" ".join(str(c) for c in row) for row in conn.execute(select(AuditEntry.__table__))]
    assert any("contacts.erase" in r for r in rows)
    assert not any("person@example.org" in r.lower() for r in rows)


def test_the_migration_builds_the_tables_the_models_describe(database_url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    import accounts.models  # noqa: F401 - the tables of revision 0010
    from campaign.db import Base

    mine = {"accounts", "account_roles", "api_tokens", "web_sessions", "audit_log", "audit_head", "approvals"}
    with get_engine().connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert [d for d in diffs if any(f"'{name}'" in repr(d) for name in mine)] == []
