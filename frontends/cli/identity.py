"""Who runs a command: the account behind WAVECAST_TOKEN, or the token `wavecast login` stored.

Every state-changing command asks `acting(ACTION)` first: no token, or one that is revoked or
expired, stops it with what to do (exit 4); an account without the role is refused by name."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from accounts import audit, tokens
from accounts.roles import Actor, NotSignedIn
from campaign.db import session_scope
from campaign.errors import WavecastError
from campaign.settings import get_settings


def stored_token(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8").strip() or None
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise WavecastError(f"cannot read the token {path} (`wavecast login` stores it): {exc.strerror}") from None


def store_token(path: Path, token: str) -> None:
    """Written readable by its owner only (0600), whatever the umask; replaced whole."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fresh = path.with_name(path.name + ".new")
    fd = os.open(fresh, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(token + "\n")
    os.chmod(fresh, 0o600)
    os.replace(fresh, path)


def signed_in() -> Actor:
    settings = get_settings()
    token = settings.token or stored_token(settings.token_file)
    if token is None:
        raise NotSignedIn(f"this command acts as a person, and none is signed in: {tokens.HOW_TO_SIGN_IN}")
    try:
        with session_scope() as session:
            return tokens.resolve(session, token)
    except NotSignedIn as exc:
        raise NotSignedIn(f"{exc}: {tokens.HOW_TO_SIGN_IN}") from None


def acting(action: str) -> Actor:
    """The signed-in account, if it may do `action`."""
    actor = signed_in()
    actor.require(action)
    return actor


def record_action(actor: Actor, action: str, object_type: str, object_id: str, **change: Any) -> None:
    """An audit entry of its own, for an action that ran in transactions of its own (an import)."""
    with session_scope() as session:
        audit.record(session, actor, action, object_type, object_id, **change)
