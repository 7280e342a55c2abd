"""The accounts a social network publishes through, as the channel's own setting
WAVECAST_<PLATFORM>_ACCOUNTS reads them: `NAME=https://USER:SECRET@HOST, ...`.

The campaign files and the ledger rows name an account (per language, 'default' otherwise); the
user and the secret stay here, in the settings.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from urllib.parse import unquote

from campaign.errors import SettingsError
from campaign.settings import ChannelEnv, mask_url, shown_value, split_url

_ACCOUNT_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_LOOPBACK = {"localhost", "127.0.0.1", "::1"}
_ACCOUNT_FORM = "NAME=https://USER:SECRET@HOST, separated by commas"


@dataclass(frozen=True)
class SocialAccount:
    """An account a social network publishes through: its name (what campaign files and ledger
    rows call it, so the secret stays here), the user (a Bluesky handle, a Mastodon username),
    the secret (an app password, an access token) and the server's base URL."""

    name: str
    user: str
    secret: str = field(repr=False)
    server: str


# A platform's accounts by name; empty: the platform posts through the outbox feed or the webhook.
Accounts = Mapping[str, SocialAccount]


def accounts_setting(*, user_required: bool) -> Callable[[ChannelEnv], Accounts]:
    """The reader of a platform's WAVECAST_<PLATFORM>_ACCOUNTS, for its channel declaration."""

    def read(env: ChannelEnv) -> Accounts:
        return {a.name: a for a in read_accounts(env.raw("ACCOUNTS"), env.prefix + "ACCOUNTS", user_required)}

    return read


def read_accounts(raw: str | None, name: str, user_required: bool) -> tuple[SocialAccount, ...]:
    """`NAME=https://USER:SECRET@HOST, ...`: the accounts a platform publishes through.

    USER and SECRET are percent-encoded like any URL's. An entry is named by its position and
    its URL is shown with the secret masked; an entry that is not even NAME=URL is never shown,
    since the secret may be anywhere in it. http is for a server on loopback only: elsewhere it
    would send the secret in clear."""
    if raw is None:
        return ()
    if len(raw) > 20_000:
        raise SettingsError(f"{name}: at most 20000 characters ({_ACCOUNT_FORM})")
    found: dict[str, SocialAccount] = {}
    for index, entry in enumerate((e for e in re.split(r"[,\s]+", raw) if e), start=1):
        account, sep, url = entry.partition("=")
        where = f"{name}, entry {index}"
        if not sep or not _ACCOUNT_NAME.match(account):
            raise SettingsError(
                f"{where}: expected {_ACCOUNT_FORM}; NAME is 1 to 64 lower-case letters, digits, - or _"
            )
        where = f"{name}, account {account!r}"
        if account in found:
            raise SettingsError(f"{where}: named twice")
        found[account] = _account(where, account, url, user_required=user_required)
    return tuple(found.values())


def _account(where: str, account: str, url: str, *, user_required: bool) -> SocialAccount:
    shown = shown_value(mask_url(url))
    parts, port = split_url(where, url)
    host = parts.hostname or ""
    if parts.scheme not in ("https", "http") or not host or port == 0:
        raise SettingsError(f"{where}={shown}: expected https://USER:SECRET@HOST")
    if parts.scheme == "http" and host not in _LOOPBACK:
        raise SettingsError(f"{where}={shown}: https is required; http only reaches a server on loopback")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise SettingsError(f"{where}={shown}: the server's address takes no path, ?query or #fragment")
    user = unquote(parts.username or "")
    secret = unquote(parts.password or "")
    if not secret:
        raise SettingsError(f"{where}={shown}: no secret (an app password or access token) after USER:")
    if user_required and not user:
        raise SettingsError(f"{where}={shown}: no user (the account's handle) before the secret")
    return SocialAccount(account, user, secret, f"{parts.scheme}://{parts.netloc.rsplit('@', 1)[1]}")
