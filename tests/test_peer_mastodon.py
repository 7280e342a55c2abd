"""The Mastodon peer: the real client Mastodon.py against the API stand-in on loopback.

No Mastodon server can run here (tests/peers/mastodon_api.py says why), so these tests run
against a stand-in that checks every request against Mastodon's documented API. What the
Mastodon channel will rely on: a status goes out with its media, alt text, visibility and
language; the same Idempotency-Key gives the same status and never a second one, also after a
429; a 429 surfaces as Mastodon.py's ratelimit error with the reset time the server gave; and a
request that breaks the documented rules is refused with 422 and changes nothing.
"""

from __future__ import annotations

import struct
import time
import zlib
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from mastodon import Mastodon, MastodonAPIError, MastodonRatelimitError, MastodonUnauthorizedError

from tests.peers.mastodon_api import MastodonApi, countable_length, running_mastodon


@pytest.fixture
def mastodon_api() -> Iterator[MastodonApi]:
    with running_mastodon() as api:
        yield api


def client(api: MastodonApi, token: str | None = None) -> Mastodon:
    # "throw": the channel decides when to retry (through the ledger), never a sleeping client.
    return Mastodon(
        access_token=token or api.token,
        api_base_url=api.base_url,
        version_check_mode="created",
        ratelimit_method="throw",
        request_timeout=10,
    )


def tiny_png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\x00\x52\x93"))
        + chunk(b"IEND", b"")
    )


# One post per campaign language, each with its own visibility.
POSTS = [
    ("nl", "public", "Digitaal. Jij, wij, allemaal! https://www.smartnation.be/nl #SmartNation"),
    ("fr", "unlisted", "Numérique. Toi, nous, tous ! https://www.smartnation.be/fr #SmartNation"),
    ("de", "private", "Digital. Du, wir, alle! https://www.smartnation.be/de #SmartNation"),
]


@pytest.mark.parametrize(("lang", "visibility", "text"), POSTS, ids=[p[0] for p in POSTS])
def test_status_goes_out_with_media_alt_text_visibility_and_language(
    mastodon_api: MastodonApi, lang: str, visibility: str, text: str
) -> None:
    api = client(mastodon_api)
    alt = f"Banner of the SmartNation campaign ({lang})"
    media = api.media_post(tiny_png(), mime_type="image/png", description=alt, focus=(0.0, 0.5))

    status = api.status_post(
        text, media_ids=[media], visibility=visibility, language=lang, idempotency_key=f"wave-1/general/{lang}"
    )

    assert (status.visibility, status.language) == (visibility, lang)
    assert [m.description for m in status.media_attachments] == [alt]
    assert [t.name for t in status.tags] == ["smartnation"]
    assert api.media(media.id).description == alt
    [stored] = mastodon_api.statuses.values()
    assert (stored.text, stored.media_ids, stored.visibility, stored.language) == (text, [media.id], visibility, lang)
    assert api.status(status.id).id == status.id
    assert api.me().username == mastodon_api.username
    # Mastodon.py asked for the version before it chose /api/v2/media.
    assert ("GET", "/api/v1/instance") in [(r.method, r.path) for r in mastodon_api.requests]


def test_same_idempotency_key_gives_the_same_status_and_no_second_one(mastodon_api: MastodonApi) -> None:
    api = client(mastodon_api)
    media = api.media_post(tiny_png(), mime_type="image/png", description="Banner")
    first = api.status_post("Niemand wordt vergeten.", media_ids=[media], language="nl", idempotency_key="w1/nl")

    again = api.status_post("Niemand wordt vergeten.", media_ids=[media], language="nl", idempotency_key="w1/nl")
    changed = api.status_post("Een andere tekst.", language="nl", idempotency_key="w1/nl")
    other = api.status_post("Niemand wordt vergeten.", language="nl", idempotency_key="w1/fr")

    assert again.id == first.id and changed.id == first.id
    assert other.id != first.id
    assert sorted(mastodon_api.statuses) == sorted([first.id, other.id])


def test_429_surfaces_as_the_ratelimit_error_and_the_retry_posts_once(mastodon_api: MastodonApi) -> None:
    api = client(mastodon_api)
    api.me()  # the version check and a first request go through
    mastodon_api.throttle(2, retry_after=30)

    for _ in range(2):
        started = time.time()
        with pytest.raises(MastodonRatelimitError):
            api.status_post("Digitaal. Jij, wij, allemaal!", language="nl", idempotency_key="w2/nl")
        # Mastodon.py keeps the server's reset time: a publisher can put the row back until then.
        assert api.ratelimit_reset is not None
        assert started + 25 <= api.ratelimit_reset <= time.time() + 35
    assert mastodon_api.statuses == {}

    posted = api.status_post("Digitaal. Jij, wij, allemaal!", language="nl", idempotency_key="w2/nl")
    retried = api.status_post("Digitaal. Jij, wij, allemaal!", language="nl", idempotency_key="w2/nl")
    assert retried.id == posted.id
    assert list(mastodon_api.statuses) == [posted.id]
    assert [r.status for r in mastodon_api.requests[-4:]] == [429, 429, 200, 200]


def test_429_carries_retry_after_and_mastodons_rate_limit_headers(mastodon_api: MastodonApi) -> None:
    mastodon_api.throttle(1, retry_after=7)
    auth = {"Authorization": f"Bearer {mastodon_api.token}"}
    with httpx.Client(base_url=mastodon_api.base_url) as http:
        limited = http.get("/api/v1/accounts/verify_credentials", headers=auth)
        after = http.get("/api/v1/accounts/verify_credentials", headers=auth)
    assert limited.status_code == 429
    assert limited.json() == {"error": "Too many requests"}
    assert limited.headers["Retry-After"] == "7"
    assert limited.headers["X-RateLimit-Remaining"] == "0"
    assert limited.headers["X-RateLimit-Reset"].endswith("Z")
    assert after.status_code == 200


def test_media_still_processing_cannot_be_attached_until_it_is_done() -> None:
    with running_mastodon(MastodonApi(processing_polls=1)) as stand_in:
        api = client(stand_in)
        media = api.media_post(tiny_png(), mime_type="image/png", description="Banner")
        assert media.url is None
        with pytest.raises(MastodonAPIError, match="finished processing"):
            api.status_post("Digitaal.", media_ids=[media], language="nl")
        assert api.media(media.id).url is None  # 206: still processing
        assert api.media(media.id).url is not None
        status = api.status_post("Digitaal.", media_ids=[media], language="nl")
        assert [m.id for m in status.media_attachments] == [media.id]


def test_a_wrong_token_is_refused(mastodon_api: MastodonApi) -> None:
    with pytest.raises(MastodonUnauthorizedError):
        client(mastodon_api, token="not-the-token").status_post("Digitaal.", language="nl")
    assert mastodon_api.statuses == {}


LINK = "https://www.smartnation.be/nl/" + "a" * 200  # counts 23, whatever its length


def test_characters_are_counted_as_mastodon_counts_them() -> None:
    assert countable_length("👩‍💻🇧🇪é") == 3
    assert countable_length(LINK) == 23
    assert countable_length("@smartnation@social.example.be hoi") == len("@smartnation hoi")


# Requests that break the documented rules, sent raw so the client's own checks do not stop
# them first: each is refused with 422 and Mastodon's error shape, and nothing is created.
STATUS_BREAKS: list[tuple[str, dict[str, Any], str]] = [
    ("501-characters", {"status": "a" * 501}, "character limit of 500"),
    ("501-emoji-graphemes", {"status": "👩‍💻" * 501}, "character limit of 500"),
    ("text-and-spoiler-over-500", {"status": "a" * 300, "spoiler_text": "b" * 201}, "character limit of 500"),
    ("22-links-and-text", {"status": f"{LINK} " * 21 + "a" * 20}, "character limit of 500"),
    ("blank", {"status": "  "}, "can't be blank"),
    ("visibility-everyone", {"status": "x", "visibility": "everyone"}, "Visibility"),
    ("visibility-capitalised", {"status": "x", "visibility": "Public"}, "Visibility"),
    ("language-english", {"status": "x", "language": "english"}, "ISO 639"),
    ("language-with-region", {"status": "x", "language": "nl_BE"}, "ISO 639"),
    ("language-unknown", {"status": "x", "language": "xx"}, "ISO 639"),
    ("language-upper-case", {"status": "x", "language": "NL"}, "ISO 639"),
    ("five-media", {"status": "x", "media_ids[]": ["1", "2", "3", "4", "5"]}, "more than 4 files"),
    ("unknown-media", {"status": "x", "media_ids[]": ["999"]}, "not found"),
    ("scheduled", {"status": "x", "scheduled_at": "2026-03-09T09:00:00Z"}, "scheduled_at"),
]


@pytest.mark.parametrize(("form", "message"), [b[1:] for b in STATUS_BREAKS], ids=[b[0] for b in STATUS_BREAKS])
def test_a_status_against_the_documented_rules_is_refused_with_422(
    mastodon_api: MastodonApi, form: dict[str, Any], message: str
) -> None:
    with httpx.Client(base_url=mastodon_api.base_url) as http:
        answer = http.post("/api/v1/statuses", data=form, headers={"Authorization": f"Bearer {mastodon_api.token}"})
    assert answer.status_code == 422
    assert set(answer.json()) == {"error"} and message in answer.json()["error"]
    assert mastodon_api.statuses == {}


# Exactly 500 as Mastodon counts: links as 23, a grapheme cluster as one character.
AT_THE_LIMIT = [
    ("links", f"{LINK} " * 20 + "a" * 20),  # 20 x (23 + 1) + 20
    ("emoji-sequences", "👩‍💻" * 500),
    ("combining-accents", "e\u0301" * 500),
    ("flags", "🇧🇪" * 500),
    ("remote-mentions", "@smartnation@social.example.be " * 37 + "a" * 19),  # 37 x 13 + 19
]


@pytest.mark.parametrize("text", [t for _, t in AT_THE_LIMIT], ids=[i for i, _ in AT_THE_LIMIT])
def test_500_characters_as_mastodon_counts_them_are_accepted(mastodon_api: MastodonApi, text: str) -> None:
    assert countable_length(text) == 500
    status = client(mastodon_api).status_post(text, language="nl")
    assert mastodon_api.statuses[status.id].text == text


def test_the_client_sees_a_refused_status_as_an_api_error_with_the_reason(mastodon_api: MastodonApi) -> None:
    with pytest.raises(MastodonAPIError) as refused:
        client(mastodon_api).status_post("a" * 501, language="nl")
    assert refused.value.args[1] == 422
    assert "character limit" in refused.value.args[3]
    assert mastodon_api.statuses == {}


MEDIA_BREAKS: list[tuple[str, dict[str, Any], dict[str, Any], str]] = [
    ("no-file", {}, {"description": "alt"}, "File can't be blank"),
    ("text-file", {"file": ("a.txt", b"hello", "text/plain")}, {}, "content type is invalid"),
    ("png-that-is-not", {"file": ("a.png", b"GIF89a....", "image/png")}, {}, "not what they are reported"),
    ("jpeg-that-is-png", {"file": ("a.jpg", tiny_png(), "image/jpeg")}, {}, "not what they are reported"),
    ("alt-text-1501", {"file": ("a.png", tiny_png(), "image/png")}, {"description": "a" * 1501}, "maximum is 1500"),
    ("focus-out-of-range", {"file": ("a.png", tiny_png(), "image/png")}, {"focus": "0,2"}, "between -1.0 and 1.0"),
    ("focus-not-numbers", {"file": ("a.png", tiny_png(), "image/png")}, {"focus": "left"}, "two numbers"),
]


@pytest.mark.parametrize(("files", "form", "message"), [b[1:] for b in MEDIA_BREAKS], ids=[b[0] for b in MEDIA_BREAKS])
def test_media_against_the_documented_rules_is_refused_with_422(
    mastodon_api: MastodonApi, files: dict[str, Any], form: dict[str, Any], message: str
) -> None:
    with httpx.Client(base_url=mastodon_api.base_url) as http:
        answer = http.post(
            "/api/v2/media",
            files=files or {"thumbnail": ("t.png", tiny_png(), "image/png")},
            data=form,
            headers={"Authorization": f"Bearer {mastodon_api.token}"},
        )
    assert answer.status_code == 422
    assert message in answer.json()["error"]
    assert mastodon_api.media == {}
