"""Personal API tokens: shown once, stored as a digest, named, optionally expiring, revocable."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from accounts.directory import actor
from accounts.models import Account, ApiToken
from accounts.roles import Actor, NotSignedIn
from campaign.db import utcnow
from campaign.errors import WavecastError

PREFIX = "wct_"  # recognisable in a leaked file or a secret scanner's report
NAME_MAX = 100
HOW_TO_SIGN_IN = "run `wavecast login` or set WAVECAST_TOKEN to a personal token (`wavecast tokens create`)"


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create(session: Session, account: Account, name: str, expires_days: int | None = None) -> str:
    """A new token for the account; the only time it exists in clear is this return value."""
    name = name.strip()
    if not name or len(name) > NAME_MAX or any(c in name for c in "\r\n"):
        raise WavecastError(f"a token's name is one line of 1 to {NAME_MAX} characters")
    if expires_days is not None and not 1 <= expires_days <= 3660:
        raise WavecastError("--expires is a number of days from 1 to 3660")
    token = PREFIX + secrets.token_urlsafe(32)
    expires = utcnow() + dt.timedelta(days=expires_days) if expires_days is not None else None
    session.add(ApiToken(account_id=account.id, name=name, digest=digest(token), expires_at=expires))
    session.flush()
    return token


def revoke(session: Session, account: Account, name: str) -> int:
    """Revoke the account's tokens of that name; how many were live."""
    result = session.execute(
        update(ApiToken)
        .where(ApiToken.account_id == account.id, ApiToken.name == name.strip(), ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def revoke_value(session: Session, token: str) -> None:
    """Revoke the token itself (`wavecast logout`)."""
    session.execute(update(ApiToken).where(ApiToken.digest == digest(token.strip())).values(revoked_at=utcnow()))


def resolve(session: Session, token: str) -> Actor:
    """The account a token stands for; NotSignedIn when it is unknown, revoked or expired."""
    token = token.strip()
    row = session.scalar(select(ApiToken).where(ApiToken.digest == digest(token))) if token else None
    if row is None:
        raise NotSignedIn("that token is not valid")
    if row.revoked_at is not None:
        raise NotSignedIn(f"that token ({row.name}) was revoked")
    now = utcnow()
    if row.expires_at is not None and row.expires_at <= now:
        raise NotSignedIn(f"that token ({row.name}) expired on {row.expires_at:%Y-%m-%d}")
    account = session.get(Account, row.account_id)
    if account is None or account.disabled_at is not None:
        raise NotSignedIn("that token's account is disabled")
    row.last_used_at = now
    return actor(session, account)


def listing(session: Session, account: Account) -> list[ApiToken]:
    return list(session.scalars(select(ApiToken).where(ApiToken.account_id == account.id).order_by(ApiToken.id)))
