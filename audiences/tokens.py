"""Unsubscribe tokens: the contact's id, timestamped and signed with WAVECAST_SECRET_KEY.

The token carries only the contact id (no address) and cannot be forged without the key.
It expires after ``TOKEN_DAYS`` (400 days): long enough for someone to unsubscribe from a
newsletter kept in their mailbox for a year, short enough that a leaked old link dies.
Contact ids are never reused (see audiences.models), so a link of an erased person can
never unsubscribe someone else. Rotating the secret key invalidates every link sent.
"""

from __future__ import annotations

from itsdangerous import BadData, URLSafeTimedSerializer

from campaign.errors import WavecastError
from campaign.settings import get_settings

TOKEN_DAYS = 400
_SALT = "wavecast.unsubscribe"


class InvalidToken(WavecastError):
    """A token that was forged, damaged or has expired."""


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(get_settings().secret_key, salt=_SALT)


def unsubscribe_token(contact_id: int) -> str:
    """A signed token naming one contact."""
    return _serializer().dumps(int(contact_id))


def unsubscribe_url(contact_id: int) -> str:
    """The public unsubscribe link for one contact (WAVECAST_BASE_URL + /u/ + token)."""
    return f"{get_settings().base_url}/u/{unsubscribe_token(contact_id)}"


def contact_for_token(token: str, max_age_days: int = TOKEN_DAYS) -> int:
    """The contact id a token names; raises InvalidToken when forged or expired."""
    try:
        value = _serializer().loads(token, max_age=max_age_days * 86400)
    except BadData:
        raise InvalidToken("this unsubscribe link is not valid or has expired") from None
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise InvalidToken("this unsubscribe link is not valid")
    return value
