"""Accounts for tests whose subject is something else (a launch, an import): made in the test's
own database, with a personal token, the way `wavecast accounts add` and `tokens create` make them.

`TESTER` is for the plain functions a test calls directly (`launch_wave(bundle, wave, TESTER)`):
an account with every role that exists only in the audit entries it writes, since a launch does
not care who launches beyond the role. Tests about who may do what use `make_account`."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker

from accounts import directory, tokens
from accounts.passwords import hash_password
from accounts.roles import ROLES, Actor, Role
from campaign.db import engine_for, session_scope

TESTER = Actor(0, "tester@service.invalid", frozenset(ROLES), service=True)
PASSWORD = "correct horse battery staple"


def _make(session: Session, email: str, roles: tuple[Role, ...], password: str | None) -> tuple[Actor, str]:
    account = directory.add(session, email, list(roles))
    if password is not None:
        account.password_hash = hash_password(password)
    return directory.actor(session, account), tokens.create(session, account, "tests")


def make_account(email: str, *roles: Role, password: str | None = None) -> tuple[Actor, str]:
    """A real account in the test's database, and a live token for it."""
    with session_scope() as session:
        return _make(session, email, roles, password)


def approver(n: int) -> Actor:
    """The n-th of the test's approvers: a real account holding the approver role."""
    return make_account(f"approver{n}@example.org", Role.APPROVER)[0]


def service_token(database_url: str, name: str = "scheduler") -> str:
    """A token of the scheduler's service account (operator role) in the database a child process uses."""
    session = sessionmaker(engine_for(database_url))()
    try:
        existing = directory.find(session, directory.service_email(name))
        account = existing or directory.add(session, name, [Role.OPERATOR], service=True)
        token = tokens.create(session, account, "tests")
        session.commit()
        return token
    finally:
        session.close()


def sign_in(monkeypatch: pytest.MonkeyPatch, token: str) -> None:
    """The CLI, and every child process the test starts, act with this token."""
    from campaign.settings import get_settings

    monkeypatch.setenv("WAVECAST_TOKEN", token)
    get_settings.cache_clear()


def account_with_token(token: str, email: str = "operator@example.org", roles: tuple[Role, ...] = ROLES) -> Actor:
    """An account whose personal token is `token` (a fixed test value), stored as a digest like any."""
    from accounts.models import ApiToken

    with session_scope() as session:
        account = directory.add(session, email, list(roles))
        session.add(ApiToken(account_id=account.id, name="tests", digest=tokens.digest(token)))
        return directory.actor(session, account)
