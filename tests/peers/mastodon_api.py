"""A stand-in for the Mastodon REST API on loopback, for the Mastodon publisher's tests.

No Mastodon server can run here: Mastodon is a Rails application whose Ruby gems come from a
registry this machine cannot reach, and Debian does not package it. So this server implements
exactly the documented endpoints a publisher needs, and checks every request against Mastodon's
API documentation (methods/statuses, methods/media, methods/accounts, methods/instance,
api/rate-limits, entities/Error), answering as Mastodon does:

- `GET /api/v1/instance`: the version (Mastodon.py asks for it before choosing an endpoint) and
  the limits the publisher must keep (500 characters, a URL counts 23, 4 media);
  `GET /api/v2/instance`: the same with `api_versions`, which Mastodon.py reads from 4.3 on;
- `GET /api/v1/accounts/verify_credentials`: the account the token belongs to;
- `POST /api/v2/media`: multipart `file` (PNG, JPEG, GIF or WebP, its bytes matching the declared
  type, at most 16 MB), `description` (the alt text, at most 1500 characters), `focus` ("x,y" in
  -1..1); `GET /api/v1/media/:id`: 206 while processing, then 200;
- `POST /api/v1/statuses`: `status`, `media_ids[]`, `visibility`, `language`, `sensitive`,
  `spoiler_text`, as a form, multipart or JSON; with an `Idempotency-Key` header a repeated
  request returns the first status and creates none (Mastodon keeps a key for an hour, the
  stand-in for its lifetime); `GET /api/v1/statuses/:id` reads it back.

Every endpoint but the instance wants `Authorization: Bearer TOKEN` (401 otherwise). A request
that breaks the documented rules gets 422 with Mastodon's error shape, `{"error": "..."}`, and
changes nothing. `throttle(n, retry_after)` answers the next n requests 429 with `Retry-After`
and Mastodon's `X-RateLimit-*` headers. Where the stand-in is stricter than Mastodon it says so:
an unknown `language` is refused (Mastodon quietly falls back to the account's default, which
would post in the wrong language without a word), and `scheduled_at` is refused (a publisher
posts when the post falls due). Status text is not turned into links; the `content` is the
escaped text in paragraphs.
"""

from __future__ import annotations

import html
import re
import secrets
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import Message
from typing import Any
from urllib.parse import urlsplit

import wcwidth
from babel import Locale

from tests.peers.api_server import ApiError, Params, Request, serving

VERSION = "4.3.2"
API_VERSION = 2  # what Mastodon 4.3 reports in /api/v2/instance
MAX_CHARACTERS = 500
URL_WEIGHT = 23
MAX_MEDIA = 4
MAX_DESCRIPTION = 1500
MAX_IMAGE_BYTES = 16 * 1024 * 1024
MAX_BODY = MAX_IMAGE_BYTES + 1024 * 1024
RATE_LIMIT = 300  # requests per 5 minutes per account, Mastodon's default
VISIBILITIES = ("public", "unlisted", "private", "direct")
IMAGE_MAGIC = {
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/gif": (b"GIF87a", b"GIF89a"),
    "image/webp": (b"RIFF",),
}
# ISO 639 codes (two letters, or three where there is no two-letter one), as Babel knows them.
LANGUAGES = frozenset(code for code in map(str, Locale("en").languages) if code.isalpha() and code.islower())
_URL = re.compile(r"https?://[^\s<>\"]+", re.IGNORECASE)
_REMOTE_MENTION = re.compile(r"(?<![\w/])@(\w+)@[\w.-]*\w")
_HASHTAG = re.compile(r"(?<![\w/])#(\w+)")
_FALSE = {"0", "f", "false", "off", "F", "FALSE", "False", "OFF"}  # Rails' boolean casting


def countable_length(text: str) -> int:
    """Characters as Mastodon counts them: grapheme clusters, a URL as 23, a remote mention as @user."""
    text = _URL.sub("x" * URL_WEIGHT, text)
    text = _REMOTE_MENTION.sub(lambda m: "@" + m.group(1), text)
    return sum(1 for _ in wcwidth.iter_graphemes(text))


@dataclass
class Media:
    id: str
    content_type: str
    data: bytes
    description: str | None
    focus: tuple[float, float]
    polls_left: int  # GET /api/v1/media/:id answers 206 until this reaches 0
    status_id: str | None = None


@dataclass
class Status:
    id: str
    text: str
    visibility: str
    language: str
    sensitive: bool
    spoiler_text: str
    media_ids: list[str]
    created_at: datetime
    idempotency_key: str | None


class MastodonApi:
    """The server's state and rules; `running_mastodon()` serves it on a loopback port."""

    def __init__(self, *, processing_polls: int = 0) -> None:
        self.token = secrets.token_urlsafe(24)
        self.account_id = "109000000000000001"
        self.username = "smartnation_nl"
        self.base_url = ""
        self.processing_polls = processing_polls
        self.media: dict[str, Media] = {}
        self.statuses: dict[str, Status] = {}
        self.requests: list[Request] = []
        self.max_body = MAX_BODY
        self._idempotency: dict[str, str] = {}
        self._next_id = 110000000000000000
        self._throttled = 0
        self._retry_after = 0
        # Called with each status request before it is looked at (a test kills a worker there).
        self.before_status: Callable[[Params], None] | None = None
        self.lock = threading.Lock()

    def throttle(self, count: int, retry_after: int = 30) -> None:
        """Answer the next COUNT requests with 429 and `Retry-After: RETRY_AFTER`."""
        with self.lock:
            self._throttled = count
            self._retry_after = retry_after

    def _new_id(self) -> str:
        self._next_id += 1
        return str(self._next_id)

    # The server calls handle() with the lock held, so every request sees and leaves a whole state.

    def handle(self, method: str, path: str, headers: Message, params: Params) -> tuple[int, Any]:
        if self._throttled > 0:
            self._throttled -= 1
            reset = datetime.now(UTC) + timedelta(seconds=self._retry_after)
            raise ApiError(
                429,
                "Too many requests",
                {
                    "Retry-After": str(self._retry_after),
                    "X-RateLimit-Limit": str(RATE_LIMIT),
                    "X-RateLimit-Remaining": "0",
                    "X-RateLimit-Reset": reset.isoformat(timespec="microseconds").replace("+00:00", "Z"),
                },
            )
        for route_method, pattern, needs_token, action in self._routes():
            match = pattern.fullmatch(path)
            if match and route_method == method:
                if needs_token and headers.get("Authorization") != f"Bearer {self.token}":
                    raise ApiError(401, "The access token is invalid")
                return action(params, headers, *match.groups())
        raise ApiError(404, "Record not found")

    def _routes(self) -> list[tuple[str, re.Pattern[str], bool, Callable[..., tuple[int, Any]]]]:
        return [
            ("GET", re.compile(r"/api/v1/instance"), False, self._instance),
            ("GET", re.compile(r"/api/v2/instance"), False, self._instance_v2),
            ("GET", re.compile(r"/api/v1/accounts/verify_credentials"), True, self._verify_credentials),
            ("POST", re.compile(r"/api/v2/media"), True, self._post_media),
            ("GET", re.compile(r"/api/v1/media/(\d+)"), True, self._get_media),
            ("POST", re.compile(r"/api/v1/statuses"), True, self._post_status),
            ("GET", re.compile(r"/api/v1/statuses/(\d+)"), True, self._get_status),
        ]

    def _limits(self) -> dict[str, Any]:
        return {
            "statuses": {
                "max_characters": MAX_CHARACTERS,
                "max_media_attachments": MAX_MEDIA,
                "characters_reserved_per_url": URL_WEIGHT,
            },
            "media_attachments": {
                "supported_mime_types": sorted(IMAGE_MAGIC),
                "image_size_limit": MAX_IMAGE_BYTES,
                "description_limit": MAX_DESCRIPTION,
            },
        }

    def _instance(self, _params: Params, _headers: Message) -> tuple[int, Any]:
        host = urlsplit(self.base_url).netloc
        return 200, {
            "uri": host,
            "title": "wavecast's Mastodon stand-in",
            "short_description": "",
            "description": "",
            "version": VERSION,
            "urls": {},
            "stats": {"user_count": 1, "status_count": len(self.statuses), "domain_count": 1},
            "languages": ["nl", "fr", "de", "en"],
            "registrations": False,
            "approval_required": False,
            "invites_enabled": False,
            "configuration": self._limits(),
            "rules": [],
        }

    def _instance_v2(self, _params: Params, _headers: Message) -> tuple[int, Any]:
        # Mastodon.py reads api_versions here once the version is 4.3 or later.
        return 200, {
            "domain": urlsplit(self.base_url).netloc,
            "title": "wavecast's Mastodon stand-in",
            "version": VERSION,
            "description": "",
            "languages": ["nl", "fr", "de", "en"],
            "configuration": self._limits(),
            "registrations": {"enabled": False, "approval_required": False},
            "rules": [],
            "api_versions": {"mastodon": API_VERSION},
        }

    def _account(self) -> dict[str, Any]:
        return {
            "id": self.account_id,
            "username": self.username,
            "acct": self.username,
            "display_name": "SmartNation",
            "locked": False,
            "bot": True,
            "group": False,
            "discoverable": True,
            "created_at": "2025-01-01T00:00:00.000Z",
            "note": "",
            "url": f"{self.base_url}/@{self.username}",
            "avatar": "",
            "avatar_static": "",
            "header": "",
            "header_static": "",
            "followers_count": 0,
            "following_count": 0,
            "statuses_count": len(self.statuses),
            "last_status_at": None,
            "emojis": [],
            "fields": [],
        }

    def _verify_credentials(self, _params: Params, _headers: Message) -> tuple[int, Any]:
        source = {"privacy": "public", "sensitive": False, "language": "nl", "note": "", "fields": []}
        return 200, {**self._account(), "source": source}

    def _post_media(self, params: Params, _headers: Message) -> tuple[int, Any]:
        upload = params.files.get("file")
        if upload is None:
            raise ApiError(422, "Validation failed: File can't be blank")
        magic = IMAGE_MAGIC.get(upload.content_type)
        if magic is None:
            raise ApiError(422, "Validation failed: File content type is invalid, File is invalid")
        webp = upload.content_type != "image/webp" or upload.data[8:12] == b"WEBP"
        if not upload.data.startswith(magic) or not webp:
            raise ApiError(422, "Validation failed: File has contents that are not what they are reported to be")
        if len(upload.data) > MAX_IMAGE_BYTES:
            raise ApiError(422, "Validation failed: File file size must be less than 16 MB")
        description = params.one("description")
        if description is not None and len(description) > MAX_DESCRIPTION:
            raise ApiError(422, f"Validation failed: Description is too long (maximum is {MAX_DESCRIPTION} characters)")
        focus = _focus(params.one("focus"))
        media = Media(self._new_id(), upload.content_type, upload.data, description, focus, self.processing_polls)
        self.media[media.id] = media
        return (202 if media.polls_left else 200), self._media_entity(media)

    def _get_media(self, _params: Params, _headers: Message, media_id: str) -> tuple[int, Any]:
        media = self.media.get(media_id)
        if media is None:
            raise ApiError(404, "Record not found")
        entity = self._media_entity(media)
        if media.polls_left:
            media.polls_left -= 1
            return 206, entity
        return 200, entity

    def _media_entity(self, media: Media) -> dict[str, Any]:
        url = None if media.polls_left else f"{self.base_url}/system/media_attachments/{media.id}"
        return {
            "id": media.id,
            "type": "image",
            "url": url,
            "preview_url": url,
            "remote_url": None,
            "meta": {"focus": {"x": media.focus[0], "y": media.focus[1]}},
            "description": media.description,
            "blurhash": None,
        }

    def _post_status(self, params: Params, headers: Message) -> tuple[int, Any]:
        if self.before_status is not None:
            self.before_status(params)
        key = headers.get("Idempotency-Key")
        if key and key in self._idempotency:  # Mastodon looks the key up before anything else
            return 200, self._status_entity(self.statuses[self._idempotency[key]])
        media = self._attachable(params.many("media_ids"))
        text = params.one("status") or ""
        spoiler = params.one("spoiler_text") or ""
        if not text.strip() and not media:
            raise ApiError(422, "Validation failed: Text can't be blank")
        if countable_length(text) + countable_length(spoiler) > MAX_CHARACTERS:
            raise ApiError(422, f"Validation failed: Text character limit of {MAX_CHARACTERS} exceeded")
        visibility = params.one("visibility") or "public"
        if visibility not in VISIBILITIES:
            raise ApiError(422, "Validation failed: Visibility is not included in the list")
        language = params.one("language") or "nl"
        if language not in LANGUAGES:
            raise ApiError(422, f"Validation failed: Language {language!r} is not an ISO 639 language code")
        if params.one("scheduled_at"):
            raise ApiError(422, "scheduled_at is not served by this stand-in: publish when the post is due")
        sensitive = (params.one("sensitive") or "false") not in _FALSE
        status = Status(
            self._new_id(),
            text,
            visibility,
            language,
            sensitive,
            spoiler,
            [m.id for m in media],
            datetime.now(UTC),
            key,
        )
        for item in media:
            item.status_id = status.id
        self.statuses[status.id] = status
        if key:
            self._idempotency[key] = status.id
        return 200, self._status_entity(status)

    def _attachable(self, ids: list[str]) -> list[Media]:
        if len(ids) > MAX_MEDIA:
            raise ApiError(422, f"Cannot attach more than {MAX_MEDIA} files")
        missing = [i for i in ids if i not in self.media or self.media[i].status_id is not None]
        if missing:
            raise ApiError(422, f"Media {', '.join(missing)} not found or already attached to another post")
        media = [self.media[i] for i in ids]
        if any(m.polls_left for m in media):
            raise ApiError(422, "Cannot attach files that have not finished processing. Try again in a moment!")
        return media

    def _get_status(self, _params: Params, _headers: Message, status_id: str) -> tuple[int, Any]:
        status = self.statuses.get(status_id)
        if status is None:
            raise ApiError(404, "Record not found")
        return 200, self._status_entity(status)

    def _status_entity(self, status: Status) -> dict[str, Any]:
        paragraphs = html.escape(status.text).split("\n\n")
        content = "".join(f"<p>{p.replace(chr(10), '<br />')}</p>" for p in paragraphs)
        url = f"{self.base_url}/@{self.username}/{status.id}"
        tags = sorted({t.lower() for t in _HASHTAG.findall(status.text)})
        return {
            "id": status.id,
            "uri": url,
            "url": url,
            "created_at": status.created_at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "account": self._account(),
            "content": content,
            "visibility": status.visibility,
            "sensitive": status.sensitive,
            "spoiler_text": status.spoiler_text,
            "language": status.language,
            "media_attachments": [self._media_entity(self.media[i]) for i in status.media_ids],
            "mentions": [],
            "tags": [{"name": t, "url": f"{self.base_url}/tags/{t}"} for t in tags],
            "emojis": [],
            "in_reply_to_id": None,
            "in_reply_to_account_id": None,
            "reblog": None,
            "poll": None,
            "card": None,
            "application": {"name": "wavecast", "website": None},
            "edited_at": None,
            "replies_count": 0,
            "reblogs_count": 0,
            "favourites_count": 0,
        }


def _focus(value: str | None) -> tuple[float, float]:
    if value is None:
        return (0.0, 0.0)
    try:
        x, y = (float(part) for part in value.split(","))
    except ValueError:
        raise ApiError(422, "Validation failed: Focus must be two numbers, x,y") from None
    if not (-1.0 <= x <= 1.0 and -1.0 <= y <= 1.0):
        raise ApiError(422, "Validation failed: Focus must lie between -1.0 and 1.0")
    return (x, y)


@contextmanager
def running_mastodon(api: MastodonApi | None = None) -> Iterator[MastodonApi]:
    """Serve the stand-in on a free loopback port for the block; its base_url says where."""
    with serving(api or MastodonApi()) as served:
        yield served
