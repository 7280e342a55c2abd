"""The Bluesky peer: the `atproto` client against the reference PDS on loopback.

What the Bluesky channel will rely on, shown against the real server: an app password logs in;
a post carries link and hashtag facets whose UTF-8 byte ranges land on the right words in every
campaign language; an image blob goes up with its alt text and comes back byte for byte; a
deterministic record key (a TID made from the post's due time and its ledger key) makes a
retried publish land on the same record instead of making a second post; and the PDS itself
refuses what the post lexicon forbids, so the channel must check these before it sends.
"""

from __future__ import annotations

import hashlib
import struct
import zlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from atproto import Client, client_utils, models
from atproto_client.exceptions import BadRequestError, RequestErrorBase

from tests.peers.bluesky_pds import PdsAccount, bluesky_pds_fixture, create_account

__all__ = ["bluesky_pds_fixture"]  # registers the fixture `bluesky_pds` (one PDS per test run)

# atproto's uploadBlob hands httpx the raw bytes as `data=`, which httpx 0.28 deprecates in favour
# of `content=`; the bytes are sent all the same. Only that one warning is let through.
pytestmark = [
    pytest.mark.filterwarnings("ignore:Use 'content=<...>' to upload raw bytes:DeprecationWarning"),
    pytest.mark.xdist_group("bluesky_pds"),  # one PDS per run: its tests share one test process
]

POST = "app.bsky.feed.post"
WAVE_DUE = datetime(2026, 3, 9, 9, 0, tzinfo=UTC)
_TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"  # base32-sortable, as the AT Protocol spells TIDs
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def tid_for(due: datetime, ledger_key: str) -> str:
    """A valid TID record key that only the due time and the ledger key decide.

    A TID is 53 bits of microseconds since the epoch and 10 bits of clock id, in 13 characters;
    posts must have one as their key. The clock id comes from the ledger key, so the posts of one
    wave (same due time) get different keys, and a retry of one post gets the same key.
    """
    micros = (due - _EPOCH) // timedelta(microseconds=1)
    clock_id = int.from_bytes(hashlib.sha256(ledger_key.encode()).digest()[:2], "big") & 0x3FF
    value = (micros << 10) | clock_id
    return "".join(_TID_ALPHABET[(value >> (5 * i)) & 31] for i in reversed(range(13)))


def tiny_png(rgb: tuple[int, int, int]) -> bytes:
    """A valid 2x2 PNG of one colour: a banner stand-in the PDS can sniff as image/png."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + bytes(rgb) * 2 for _ in range(2))
    header = struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def logged_in(account: PdsAccount) -> Client:
    client = Client(base_url=f"{account.base_url}/xrpc")
    # The loopback PDS has no AppView, so there is no Bluesky profile to fetch at login.
    client.login(account.handle, account.app_password, fetch_bsky_profile=False)
    return client


def post_record(text: client_utils.TextBuilder, blob: Any, alt: str, lang: str) -> models.AppBskyFeedPost.Record:
    image = models.AppBskyEmbedImages.Image(
        alt=alt, image=blob, aspect_ratio=models.AppBskyEmbedDefs.AspectRatio(width=2, height=2)
    )
    return models.AppBskyFeedPost.Record(
        text=text.build_text(),
        facets=text.build_facets(),
        embed=models.AppBskyEmbedImages.Main(images=[image]),
        langs=[lang],
        created_at=WAVE_DUE.isoformat().replace("+00:00", "Z"),
    )


def rkeys_in(client: Client, did: str) -> list[str]:
    listed = client.com.atproto.repo.list_records(
        models.ComAtprotoRepoListRecords.Params(repo=did, collection=POST, limit=100)
    )
    return [record.uri.rsplit("/", 1)[1] for record in listed.records]


# Text before the link holds one-, two-, three- and four-byte UTF-8 characters, so a facet that
# counted characters instead of bytes would land on the wrong words.
CAMPAIGN_POSTS = [
    ("nl", "Digitaal. Jij, wij, allemaal! Lees meer op ", "smartnation.be/nl", "Niemand wordt vergeten."),
    ("fr", "Numérique. Toi, nous, tous ! Plus d’infos sur ", "smartnation.be/fr", "Personne n’est oublié."),
    ("de", "Digital. Du, wir, alle – für Ältere und Junge: ", "smartnation.be/de", "Niemand wird vergessen."),
    ("en", "👩‍💻 Digital. You, us, everyone: read more at ", "smartnation.be/en", "No one is left behind."),
]


@pytest.mark.services
@pytest.mark.parametrize(("lang", "before", "link_text", "after"), CAMPAIGN_POSTS, ids=[c[0] for c in CAMPAIGN_POSTS])
def test_post_carries_link_and_hashtag_facets_and_an_image_with_alt_text(
    bluesky_pds: PdsAccount, lang: str, before: str, link_text: str, after: str
) -> None:
    client = logged_in(bluesky_pds)
    url = f"https://www.{link_text}"
    text = client_utils.TextBuilder().text(before).link(link_text, url).text(" ").tag("#SmartNation", "SmartNation")
    text.text(f" {after}")
    banner = tiny_png((0, 82, 147))
    alt = f"Banner of the SmartNation campaign ({lang}): people of every age at a laptop"
    blob = client.upload_blob(banner).blob
    rkey = tid_for(WAVE_DUE, f"wave-1/general/{lang}/bluesky")
    record = post_record(text, blob, alt, lang)

    made = client.com.atproto.repo.create_record(
        models.ComAtprotoRepoCreateRecord.Data(repo=bluesky_pds.did, collection=POST, rkey=rkey, record=record)
    )

    assert made.uri == f"at://{bluesky_pds.did}/{POST}/{rkey}"
    stored = client.app.bsky.feed.post.get(bluesky_pds.did, rkey).value
    assert stored.text == text.build_text()
    assert stored.langs == [lang]
    body = stored.text.encode()
    spans = {
        type(feature).__name__: body[facet.index.byte_start : facet.index.byte_end].decode()
        for facet in stored.facets
        for feature in facet.features
    }
    assert spans == {"Link": link_text, "Tag": "#SmartNation"}
    links = [
        f.uri for facet in stored.facets for f in facet.features if isinstance(f, models.AppBskyRichtextFacet.Link)
    ]
    assert links == [url]
    [image] = stored.embed.images
    assert image.alt == alt
    assert image.image.mime_type == "image/png"
    fetched = client.com.atproto.sync.get_blob(
        models.ComAtprotoSyncGetBlob.Params(did=bluesky_pds.did, cid=image.image.cid.encode())
    )
    assert fetched == banner


@pytest.mark.services
def test_same_record_key_again_makes_no_second_post(bluesky_pds: PdsAccount) -> None:
    account = create_account(bluesky_pds.base_url, "smartnation-retry")
    client = logged_in(account)
    blob = client.upload_blob(tiny_png((250, 200, 0))).blob
    text = client_utils.TextBuilder().text("Digitaal. Jij, wij, allemaal! ").tag("#SmartNation", "SmartNation")
    record = post_record(text, blob, "Banner of the SmartNation campaign", "nl")
    rkey = tid_for(WAVE_DUE, "wave-2/women/nl/bluesky")
    other = tid_for(WAVE_DUE, "wave-2/youth/nl/bluesky")
    assert rkey != other and len(rkey) == 13

    first = client.com.atproto.repo.create_record(
        models.ComAtprotoRepoCreateRecord.Data(repo=account.did, collection=POST, rkey=rkey, record=record)
    )
    # A publish retried after a crash between the PDS's answer and the ledger's mark. Create at the
    # taken key is refused, but the reference PDS answers it with a bare 500 ("There is already a
    # value at key"), which a publisher cannot tell from an outage: put is the idempotent publish.
    with pytest.raises(RequestErrorBase):
        client.com.atproto.repo.create_record(
            models.ComAtprotoRepoCreateRecord.Data(repo=account.did, collection=POST, rkey=rkey, record=record)
        )
    assert rkeys_in(client, account.did) == [rkey]
    again = client.com.atproto.repo.put_record(
        models.ComAtprotoRepoPutRecord.Data(repo=account.did, collection=POST, rkey=rkey, record=record)
    )

    assert again.uri == first.uri
    assert again.cid == first.cid  # the same content: the record is unchanged, not a new version
    assert rkeys_in(client, account.did) == [rkey]
    client.com.atproto.repo.create_record(
        models.ComAtprotoRepoCreateRecord.Data(repo=account.did, collection=POST, rkey=other, record=record)
    )
    assert sorted(rkeys_in(client, account.did)) == sorted([rkey, other])


def _raw_post(text: str, **extra: Any) -> dict[str, Any]:
    return {"$type": POST, "text": text, "createdAt": "2026-03-09T09:00:00Z", **extra}


def _image_without_alt(client: Client) -> dict[str, Any]:
    blob = client.upload_blob(tiny_png((1, 2, 3))).blob
    image = {"image": blob.model_dump(by_alias=True, exclude_none=True)}
    return _raw_post("Digitaal.", embed={"$type": "app.bsky.embed.images", "images": [image]})


def _five_images(client: Client) -> dict[str, Any]:
    blob = client.upload_blob(tiny_png((4, 5, 6))).blob.model_dump(by_alias=True, exclude_none=True)
    images = [{"image": blob, "alt": "banner"}] * 5
    return _raw_post("Digitaal.", embed={"$type": "app.bsky.embed.images", "images": images})


def _fixed(record: dict[str, Any]) -> Callable[[Client], dict[str, Any]]:
    return lambda _client: record


# What the post lexicon forbids, each refused by the PDS with nothing written.
LEXICON_BREAKS: list[tuple[str, str | None, Callable[[Client], dict[str, Any]]]] = [
    ("rkey-not-a-tid", "wave-1-nl-bluesky", _fixed(_raw_post("Digitaal. Jij, wij, allemaal!"))),
    ("rkey-with-dots", "..", _fixed(_raw_post("Digitaal. Jij, wij, allemaal!"))),
    ("301-graphemes", None, _fixed(_raw_post("a" * 301))),
    ("301-emoji-graphemes", None, _fixed(_raw_post("👩‍💻" * 301))),
    ("over-3000-bytes", None, _fixed(_raw_post("é" * 1501))),
    ("image-without-alt", None, _image_without_alt),
    ("five-images", None, _five_images),
    ("no-created-at", None, _fixed({"$type": POST, "text": "Digitaal."})),
]


@pytest.mark.services
@pytest.mark.parametrize(("rkey", "make"), [c[1:] for c in LEXICON_BREAKS], ids=[c[0] for c in LEXICON_BREAKS])
def test_pds_refuses_what_the_post_lexicon_forbids(
    bluesky_pds: PdsAccount, rkey: str | None, make: Callable[[Client], dict[str, Any]]
) -> None:
    client = logged_in(bluesky_pds)
    record = make(client)
    before = rkeys_in(client, bluesky_pds.did)
    key = rkey or tid_for(WAVE_DUE, "refused")
    with pytest.raises(BadRequestError) as refused:
        client.com.atproto.repo.create_record(
            data={"repo": bluesky_pds.did, "collection": POST, "rkey": key, "record": record}
        )
    assert refused.value.response is not None
    assert refused.value.response.content.error in {"InvalidRequest", "InvalidRecord"}
    assert rkeys_in(client, bluesky_pds.did) == before
