"""Web sessions: a random id in the cookie, its digest in the table; idle timeout; sign-out everywhere."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from accounts import directory
from accounts.models import Account, WebSession
from accounts.roles import Actor
from campaign.db import utcnow

MAX_AGE = dt.timedelta(hours=12)  # signed in in the morning, signed out by night, whatever the activity
TOUCH_EVERY = dt.timedelta(seconds=60)  # one write a minute per browser at most


def _digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def start(session: Session, actor: Actor) -> str:
    """A new session for the account; the returned id goes into the cookie, nowhere else."""
    session_id = secrets.token_urlsafe(32)
    now = utcnow()
    session.add(WebSession(digest=_digest(session_id), account_id=actor.id, created_at=now, last_seen_at=now))
    session.flush()
    return session_id


def resume(session: Session, session_id: str, idle: dt.timedelta) -> Actor | None:
    """The session's account if it is live: not ended, used within `idle`, younger than MAX_AGE."""
    if not session_id or len(session_id) > 100:
        return None
    row = session.get(WebSession, _digest(session_id))
    now = utcnow()
    if row is None or row.ended_at is not None or now - row.last_seen_at > idle or now - row.created_at > MAX_AGE:
        return None
    account = session.get(Account, row.account_id)
    if account is None or account.disabled_at is not None:
        return None
    if now - row.last_seen_at > TOUCH_EVERY:
        row.last_seen_at = now
    return directory.actor(session, account)


def end(session: Session, session_id: str) -> None:
    session.execute(update(WebSession).where(WebSession.digest == _digest(session_id)).values(ended_at=utcnow()))


def end_everywhere(session: Session, account_id: int) -> int:
    """Sign the account out of every browser; how many sessions were live."""
    result = session.execute(
        update(WebSession)
        .where(WebSession.account_id == account_id, WebSession.ended_at.is_(None))
        .values(ended_at=utcnow())
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def live_count(session: Session, account_id: int) -> int:
    return len(
        session.scalars(
            select(WebSession.digest).where(WebSession.account_id == account_id, WebSession.ended_at.is_(None))
        ).all()
    )
