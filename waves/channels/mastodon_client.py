"""Mastodon: statuses published through `Mastodon.py`, or through the outbox feed or the signed
webhook while no account is configured (WAVECAST_MASTODON_ACCOUNTS).

A status carries its banner (uploaded once with its alt text, the media id kept on the ledger
row so a retry attaches the same upload), the campaign's visibility, the post's
language, and the ledger key as its `Idempotency-Key`: Mastodon answers a repeated request with
the first status and makes none, so a retried publish never makes a second post.

The client never sleeps on a rate limit (ratelimit_method="throw"): a 429 becomes TransientError
with the server's delay (Retry-After, or X-RateLimit-Reset as Mastodon.py reads it), and the
ledger keeps the row waiting that long.
"""

from __future__ import annotations

import contextlib
import time
from typing import Any

from mastodon import (
    Mastodon,
    MastodonAPIError,
    MastodonError,
    MastodonNetworkError,
    MastodonNotFoundError,
    MastodonRatelimitError,
    MastodonServerError,
    MastodonUnauthorizedError,
)

from campaign.settings import Settings, SocialAccount
from waves.channels.contract import Outgoing, PermanentError, TransientError
from waves.channels.direct import DirectPost, account_named
from waves.post_media import remember_upload, uploaded

TIMEOUT = 30.0  # seconds per request
# Mastodon processes an upload in the background; wait for it a few seconds at most, then let
# the row wait in the ledger instead of holding the worker.
PROCESSING_POLLS = (0.2, 0.4, 0.8, 1.6, 2.0)


def _iso639(language: str) -> str:
    """Mastodon takes an ISO 639 code only: 'nl' of 'nl-BE'."""
    return language.replace("_", "-").split("-", 1)[0].lower()


class _Client:
    """One account's client, and the headers of its last answer (Mastodon.py keeps no Retry-After)."""

    def __init__(self, account: SocialAccount) -> None:
        self.last_headers: dict[str, str] = {}
        self.api = Mastodon(
            access_token=account.secret,
            api_base_url=account.server,
            version_check_mode="none",
            ratelimit_method="throw",
            request_timeout=TIMEOUT,
        )
        self.api.session.hooks["response"].append(self._remember)

    def _remember(self, response: Any, *_args: Any, **_kwargs: Any) -> None:
        self.last_headers = dict(response.headers)

    def retry_after(self) -> float | None:
        """Seconds to wait: the answer's Retry-After, else X-RateLimit-Reset as Mastodon.py read it."""
        waits = []
        raw = self.last_headers.get("Retry-After", "")
        with contextlib.suppress(ValueError):  # absent, or an HTTP date: the reset time covers it
            waits.append(float(raw))
        if self.api.ratelimit_reset is not None:
            waits.append(float(self.api.ratelimit_reset) - time.time())
        finite = [w for w in waits if 0 <= w < 86400 * 7]
        return max(finite) if finite else None


def _reply(exc: MastodonAPIError) -> str:
    """Mastodon.py's error: ('Mastodon API returned error', status, reason, the server's error text)."""
    args = list(exc.args) + [None] * 4
    status, reason, text = args[1], args[2], args[3]
    return f"{status} {text or reason or ''}".strip() if isinstance(status, int) else str(exc)


class MastodonMessenger:
    def __init__(self, _settings: Settings, accounts: dict[str, SocialAccount]) -> None:
        self.accounts = accounts
        self.clients: dict[str, _Client] = {}

    def push(self, message: Outgoing) -> None:
        post = DirectPost.of(message)
        account = account_named(self.accounts, "mastodon", post.account)
        client = self.clients.get(account.name) or self.clients.setdefault(account.name, _Client(account))
        try:
            media = [self._media(client, post)] if post.image is not None else None
            client.api.status_post(
                post.text,
                media_ids=media,
                visibility=post.visibility,
                language=_iso639(post.language),
                idempotency_key=post.key,
            )
        except MastodonRatelimitError:
            wait = client.retry_after()
            raise TransientError("Mastodon answered 429: too many requests", retry_after=wait) from None
        except MastodonUnauthorizedError as exc:
            raise PermanentError(f"Mastodon refused account {account.name!r}: {_reply(exc)}") from None
        except MastodonServerError as exc:  # 5xx: the server may be back soon
            raise TransientError(f"Mastodon answered {_reply(exc)}") from None
        except MastodonAPIError as exc:  # 4xx: the post as it is will never be taken
            raise PermanentError(f"Mastodon refused the post: {_reply(exc)}") from None
        except MastodonNetworkError as exc:
            raise TransientError(f"Mastodon: no answer ({exc})") from None
        except MastodonError as exc:
            raise TransientError(f"Mastodon: {type(exc).__name__}: {exc}") from None

    def _media(self, client: _Client, post: DirectPost) -> str:
        """The banner's media id, once Mastodon has processed it (the status needs that).

        An earlier try's upload is reused: its id is on the ledger row from the moment Mastodon
        answered the upload, so a worker that died before the status leaves no second copy.
        Mastodon removes unattached media after a day; an id it no longer knows is uploaded anew."""
        assert post.image is not None
        known = uploaded(post.key, "mastodon")
        if known is not None:
            try:
                return self._processed(client, client.api.media(known))
            except MastodonNotFoundError:
                remember_upload(post.key, "mastodon", None)
        media = client.api.media_post(post.image.data, mime_type=post.image.mime_type, description=post.image.alt)
        remember_upload(post.key, "mastodon", str(media.id))
        return self._processed(client, media)

    def _processed(self, client: _Client, media: Any) -> str:
        for pause in PROCESSING_POLLS:
            if media.url is not None:
                return str(media.id)
            time.sleep(pause)  # polling Mastodon's processing state; the total is bounded
            media = client.api.media(media.id)
        if media.url is None:
            # The upload is kept on the row: the next try waits for the same one.
            raise TransientError("Mastodon is still processing the image; the post is tried again later")
        return str(media.id)

    def flush(self) -> None:
        return None  # every status is published by the time push returns

    def close(self) -> None:
        for client in self.clients.values():
            client.api.session.close()
        self.clients.clear()
