"""The AT Protocol calls the Bluesky channel (campaign/channels/bluesky.py) makes, through the
client `atproto`: log in (once per account and process), upload the banner, write the post.

A post is one `app.bsky.feed.post` record: its text with facets for links and hashtags (by UTF-8
byte offsets, as the lexicon counts), `langs` set to the post's language, and either the banner
image (an uploaded blob with its alt text) or, without a banner file, a link card. Its record key
is a TID made from the post's due time and its ledger key, written with putRecord: a publish
retried after a crash lands on the same record instead of making a second post (createRecord at
a taken key gets a bare 500 from the reference PDS, indistinguishable from an outage).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import threading
from typing import ClassVar

from atproto import Client, models
from atproto_client.exceptions import (
    BadRequestError,
    NetworkError,
    RateLimitExceededError,
    RequestErrorBase,
    UnauthorizedError,
)
from atproto_client.request import Request
from atproto_core.exceptions import AtProtocolError

from campaign.channel_contract import PermanentError, TransientError
from campaign.direct_posts import DirectPost
from campaign.social_accounts import SocialAccount

POST = "app.bsky.feed.post"
TIMEOUT = 30.0  # seconds per request
_TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"  # base32-sortable, as the AT Protocol spells TIDs
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_URL = re.compile(r"https?://[^\s<>\"]+", re.IGNORECASE)
_HASHTAG = re.compile(r"(?<![\w#&])#(\w{1,64})")
_TRAILING = ".,;:!?)]}'\""  # punctuation after a link in prose is not part of it


def tid_for(due: dt.datetime, ledger_key: str) -> str:
    """A valid TID record key that only the due time and the ledger key decide.

    53 bits of microseconds since the epoch and 10 bits of clock id, in 13 characters. The clock
    id comes from the ledger key: the posts of one wave (one due time) get different keys, and a
    retry of one post gets the same key."""
    micros = (due.astimezone(dt.UTC) - _EPOCH) // dt.timedelta(microseconds=1)
    clock_id = int.from_bytes(hashlib.sha256(ledger_key.encode()).digest()[:2], "big") & 0x3FF
    value = (micros << 10) | clock_id
    return "".join(_TID_ALPHABET[(value >> (5 * i)) & 31] for i in reversed(range(13)))


def facets(text: str) -> list[models.AppBskyRichtextFacet.Main]:
    """Link and hashtag facets; their ranges count UTF-8 bytes, as the lexicon wants."""

    def span(start: int, end: int) -> models.AppBskyRichtextFacet.ByteSlice:
        return models.AppBskyRichtextFacet.ByteSlice(
            byte_start=len(text[:start].encode()), byte_end=len(text[:end].encode())
        )

    found: list[models.AppBskyRichtextFacet.Main] = []
    links: list[tuple[int, int]] = []
    for match in _URL.finditer(text):
        url = match.group().rstrip(_TRAILING)
        start, end = match.start(), match.start() + len(url)
        links.append((start, end))
        found.append(
            models.AppBskyRichtextFacet.Main(
                index=span(start, end), features=[models.AppBskyRichtextFacet.Link(uri=url)]
            )
        )
    for match in _HASHTAG.finditer(text):
        if any(start <= match.start() < end for start, end in links):
            continue  # a #fragment inside a link is the link's
        found.append(
            models.AppBskyRichtextFacet.Main(
                index=span(match.start(), match.end()), features=[models.AppBskyRichtextFacet.Tag(tag=match.group(1))]
            )
        )
    return sorted(found, key=lambda facet: facet.index.byte_start)


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _reply(exc: RequestErrorBase) -> str:
    """The PDS's own words; `atproto` gives status, error and message, at most 200 characters."""
    return str(exc) if exc.response is not None else f"no answer ({type(exc).__name__}: {exc})"


class _Logins:
    """A logged-in client per account, kept for the process: Bluesky allows 30 logins per five
    minutes and 300 a day per account, so a login per chunk would soon be refused."""

    clients: ClassVar[dict[tuple[str, str], tuple[Client, str]]] = {}
    lock: ClassVar[threading.Lock] = threading.Lock()

    @classmethod
    def get(cls, account: SocialAccount) -> tuple[Client, str]:
        key = (account.server, account.user)
        with cls.lock:
            if key not in cls.clients:
                client = Client(base_url=f"{account.server}/xrpc", request=Request(timeout=TIMEOUT))
                # No AppView profile is needed to post; a PDS without app.bsky serves the login too.
                client.login(account.user, account.secret, fetch_bsky_profile=False)
                did = client.com.atproto.server.get_session().did
                cls.clients[key] = (client, did)
            return cls.clients[key]

    @classmethod
    def forget(cls, account: SocialAccount) -> None:
        with cls.lock:
            cls.clients.pop((account.server, account.user), None)


def publish(account: SocialAccount, post: DirectPost) -> None:
    """Write the post to the account's repository; the library's errors become the contract's."""
    try:
        _publish(account, post)
    except RateLimitExceededError as exc:
        wait = exc.retry_after
        if wait is None and exc.reset_at is not None:
            wait = max(0.0, (exc.reset_at - dt.datetime.now(dt.UTC)).total_seconds())
        raise TransientError(f"Bluesky answered {_reply(exc)}", retry_after=wait) from None
    except UnauthorizedError as exc:
        _Logins.forget(account)
        raise PermanentError(f"Bluesky refused account {account.name!r}: {_reply(exc)}") from None
    except BadRequestError as exc:
        raise PermanentError(f"Bluesky refused the post: {_reply(exc)}") from None
    except (NetworkError, RequestErrorBase) as exc:  # a lost connection, a timeout, a 5xx
        raise TransientError(f"Bluesky: {_reply(exc)}") from None
    except AtProtocolError as exc:  # an answer the client cannot read
        raise TransientError(f"Bluesky: {type(exc).__name__}: {exc}") from None


def _publish(account: SocialAccount, post: DirectPost) -> None:
    client, did = _Logins.get(account)
    embed: models.AppBskyEmbedImages.Main | models.AppBskyEmbedExternal.Main
    if post.image is not None:
        blob = client.upload_blob(post.image.data).blob
        image = models.AppBskyEmbedImages.Image(alt=post.image.alt, image=blob)
        embed = models.AppBskyEmbedImages.Main(images=[image])
    else:
        card = models.AppBskyEmbedExternal.External(uri=post.link, title=post.title, description="")
        embed = models.AppBskyEmbedExternal.Main(external=card)
    record = models.AppBskyFeedPost.Record(
        text=post.text,
        facets=facets(post.text) or None,
        embed=embed,
        langs=[post.language],
        # The due time, not the clock: a retry writes the very same record (same CID).
        created_at=_iso(post.scheduled_at),
    )
    client.com.atproto.repo.put_record(
        models.ComAtprotoRepoPutRecord.Data(
            repo=did, collection=POST, rkey=tid_for(post.scheduled_at, post.key), record=record
        )
    )
