"""Email addresses in one canonical form, so "Jan@Example.org" and "jan@example.org" are one person.

The syntax check is email-validator's (no DNS lookups: an import must not depend on the
network). Its normalised form lower-cases the domain and applies Unicode NFC; we then
lower-case the whole address, because people type their address in any case and mail
systems treat the local part case-insensitively in practice. Uniqueness, upserts and the
suppression hash all use this one form.
"""

from __future__ import annotations

import hashlib
import hmac
from functools import lru_cache

from email_validator import EmailNotValidError, validate_email

from audiences.models import EMAIL_MAX
from campaign.errors import WavecastError
from campaign.settings import get_settings


class InvalidEmail(WavecastError):
    """An address that is not a syntactically valid email address."""


def normalise_email(raw: str) -> str:
    """The canonical form of an address; raises InvalidEmail saying what is wrong."""
    text = raw.strip()
    if not text:
        raise InvalidEmail("is empty")
    try:
        result = validate_email(text, check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidEmail(f"is not a valid email address: {exc}") from None
    email = result.normalized.lower()
    if len(email) > EMAIL_MAX:
        raise InvalidEmail(f"is longer than {EMAIL_MAX} characters")
    return email


def normalise_typed(raw: str) -> str:
    """``normalise_email`` for an address an operator typed: the error quotes what was typed."""
    try:
        return normalise_email(raw)
    except InvalidEmail as exc:
        raise InvalidEmail(f"{raw.strip()!r} {exc}") from None


def email_hash(normalised: str, secret_key: str | None = None) -> str:
    """Keyed hash (HMAC-SHA256, hex) of a normalised address: what the suppression list keeps.

    Keyed with WAVECAST_SECRET_KEY so the list cannot be reversed by hashing guessed
    addresses without the key. Changing the key orphans existing hashes.
    """
    mac = _keyed(secret_key if secret_key is not None else get_settings().secret_key).copy()
    mac.update(normalised.encode())
    return mac.hexdigest()


@lru_cache(maxsize=4)
def _keyed(key: str) -> hmac.HMAC:
    """An HMAC already holding the key; copying it saves rehashing the key for every address."""
    return hmac.new(key.encode(), digestmod=hashlib.sha256)
