"""The Mastodon API calls the Mastodon channel (campaign/channels/mastodon.py) makes, through
`Mastodon.py`: upload the banner, wait for it to be processed, post the status.

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

from campaign.channel_contract import PermanentError, TransientError
from campaign.direct_posts import DirectPost
from campaign.social_accounts import SocialAccount

TIMEOUT = 30.0  # seconds per request
# Mastodon processes an upload in the background; wait for it a few seconds at most, then let
# the row wait in the ledger instead of holding the worker.
PROCESSING_POLLS = (0.2, 0.4, 0.8, 1.6, 2.0)


def _iso639(language: str) -> str:
    """Mastodon takes an ISO 639 code only: 'nl' of 'nl-BE'."""
    return language.replace("_", "-").split("-", 1)[0].lower()


class MastodonClient:
    """One account's client, and the headers of its last answer (Mastodon.py keeps no Retry-After)."""

    def __init__(self, account: SocialAccount) -> None:
        self.name = account.name
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

    def close(self) -> None:
        self.api.session.close()


def _reply(exc: MastodonAPIError) -> str:
    """Mastodon.py's error: ('Mastodon API returned error', status, reason, the server's error text)."""
    args = list(exc.args) + [None] * 4
    status, reason, text = args[1], args[2], args[3]
    return f"{status} {text or reason or ''}".strip() if isinstance(status, int) else str(exc)


def publish(client: MastodonClient, post: DirectPost) -> None:
    """Post the status (with its banner); the library's errors become the contract's."""
    try:
        media = [_media(client, post)] if post.image is not None else None
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
        raise PermanentError(f"Mastodon refused account {client.name!r}: {_reply(exc)}") from None
    except MastodonServerError as exc:  # 5xx: the server may be back soon
        raise TransientError(f"Mastodon answered {_reply(exc)}") from None
    except MastodonAPIError as exc:  # 4xx: the post as it is will never be taken
        raise PermanentError(f"Mastodon refused the post: {_reply(exc)}") from None
    except MastodonNetworkError as exc:
        raise TransientError(f"Mastodon: no answer ({exc})") from None
    except MastodonError as exc:
        raise TransientError(f"Mastodon: {type(exc).__name__}: {exc}") from None


def _media(client: MastodonClient, post: DirectPost) -> str:
    """The banner's media id, once Mastodon has processed it (the status needs that).

    An earlier try's upload is reused: its id is on the ledger row (the post's memo) from the
    moment Mastodon answered the upload, so a worker that died before the status leaves no second
    copy. Mastodon removes unattached media after a day; an id it no longer knows is uploaded anew."""
    assert post.image is not None
    known = post.memo.read()
    if known is not None:
        try:
            return _processed(client, client.api.media(known))
        except MastodonNotFoundError:
            post.memo.keep(None)
    media = client.api.media_post(post.image.data, mime_type=post.image.mime_type, description=post.image.alt)
    post.memo.keep(str(media.id))
    return _processed(client, media)


def _processed(client: MastodonClient, media: Any) -> str:
    for pause in PROCESSING_POLLS:
        if media.url is not None:
            return str(media.id)
        time.sleep(pause)  # polling Mastodon's processing state; the total is bounded
        media = client.api.media(media.id)
    if media.url is None:
        # The upload is kept on the row: the next try waits for the same one.
        raise TransientError("Mastodon is still processing the image; the post is tried again later")
    return str(media.id)
