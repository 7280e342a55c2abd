"""Signing in with a password (and a one-time code when the account has one), with backoff.

After `FREE_TRIES` wrong tries in a row the account is locked for a minute, and each further
wrong try doubles the lock, up to a day. A right answer during a lock is refused like a wrong
one, so guessing gains nothing from the lock ending early. An admin unlocks with
`wavecast accounts unlock`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from contextlib import AbstractContextManager

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts import audit, directory
from accounts.models import Account
from accounts.passwords import password_matches
from accounts.roles import Actor, NotSignedIn
from accounts.totp import code_matches
from campaign.db import utcnow
from campaign.errors import WavecastError

FREE_TRIES = 5
MAX_LOCK = dt.timedelta(days=1)
REFUSED = "that address, password or code is not right"


def lock_for(failures: int) -> dt.timedelta | None:
    if failures < FREE_TRIES:
        return None
    return min(dt.timedelta(minutes=2 ** (failures - FREE_TRIES)), MAX_LOCK)


def _refuse(session: Session, account: Account, why: str) -> None:
    account.failed_signins += 1
    lock = lock_for(account.failed_signins)
    if lock is not None:
        account.locked_until = utcnow() + lock
    audit.record(
        session,
        directory.actor(session, account),
        "account.signin_failed",
        "account",
        account.email,
        after={"why": why, "failures": account.failed_signins},
    )


def _account(session: Session, email: str) -> Account | None:
    try:
        return directory.find(session, email)
    except WavecastError:  # not even an address: no such account
        return None


def attempt(session: Session, email: str, password: str, code: str = "") -> Actor | None:
    """The account, signed in, or None (the caller says `REFUSED`, one message for every reason).
    A failed try is counted and recorded in the session: commit it either way."""
    account = _account(session, email)
    if account is None or account.disabled_at is not None or account.password_hash is None:
        password_matches(None, password)  # the same work as for a real account
        return None
    now = utcnow()
    why = (
        "locked"
        if account.locked_until is not None and account.locked_until > now
        else "password"
        if not password_matches(account.password_hash, password)
        else "code"
        if account.totp_secret is not None and not code_matches(account.totp_secret, code)
        else None
    )
    if why is not None:
        _refuse(session, account, why)
        return None
    account.failed_signins = 0
    account.locked_until = None
    signed_in = directory.actor(session, account)
    audit.record(session, signed_in, "account.signin", "account", account.email, after={"how": "password"})
    return signed_in


def with_password(
    session_scope: Callable[[], AbstractContextManager[Session]], email: str, password: str, code: str = ""
) -> Actor:
    """`attempt` in its own transaction, committed whether it succeeds or not; NotSignedIn if not."""
    with session_scope() as session:
        actor = attempt(session, email, password, code)
    if actor is None:
        raise NotSignedIn(REFUSED)
    return actor


def with_single_sign_on(session: Session, issuer: str, subject: str, email: str, verified: bool) -> Actor | None:
    """The account the provider vouched for, or None. The provider's (issuer, subject) is the
    link; the first sign-in makes it, from an address the provider verified and an admin had
    given an account. Nobody gets an account just by signing on."""
    account = session.scalar(select(Account).where(Account.oidc_issuer == issuer, Account.oidc_subject == subject))
    if account is None and verified:
        account = _account(session, email)
        if account is not None and account.oidc_subject is not None:
            return None  # linked to another identity at the provider already
        if account is not None:
            account.oidc_issuer, account.oidc_subject = issuer, subject
    if account is None or account.disabled_at is not None:
        return None
    signed_in = directory.actor(session, account)
    audit.record(session, signed_in, "account.signin", "account", account.email, after={"how": "single sign-on"})
    return signed_in
