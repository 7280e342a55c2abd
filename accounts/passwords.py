"""Passwords, hashed with Argon2id (argon2-cffi's defaults, RFC 9106's second recommendation)."""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from campaign.errors import WavecastError

MIN_LENGTH = 12
MAX_LENGTH = 1024  # Argon2 takes any length; a bound keeps one request from costing much more

_hasher = PasswordHasher()


def check_strength(password: str) -> None:
    """Long enough to resist guessing; no other rule (NIST SP 800-63B)."""
    if len(password) < MIN_LENGTH:
        raise WavecastError(f"a password needs at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise WavecastError(f"a password has at most {MAX_LENGTH} characters")


def hash_password(password: str) -> str:
    check_strength(password)
    return _hasher.hash(password)


def password_matches(stored: str | None, given: str) -> bool:
    """Constant work whether or not the account has a password, so timing tells nothing."""
    if len(given) > MAX_LENGTH:
        return False
    try:
        return _hasher.verify(stored or _dummy(), given) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


@cache
def _dummy() -> str:
    """A hash to verify against when there is no account: made once, when first needed (a hash
    costs about 0.1 s, which every command would otherwise pay at start)."""
    return _hasher.hash("no account has this password")
