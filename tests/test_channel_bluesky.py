"""The Bluesky channel against the reference PDS (@atproto/pds) on loopback: a launched wave
publishes one post per audience x language through the account the campaign names for that
language, with facets, language, the banner and its alt text or a link card; a retried publish
lands on the same record; the published quota holds a post back until its window ends; a post
the PDS refuses fails with the PDS's reply, shown by `wavecast status`; an unapproved wave
publishes nothing.

The loopback PDS runs with its own rate limiter off (as the reference server ships in dev mode),
so the one test of its 429 answer builds that answer here; everything else goes to the server.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from atproto import Client, models
from atproto_client.exceptions import RateLimitExceededError
from atproto_client.models.common import XrpcError
from atproto_client.request import Response
from sqlalchemy import update

from campaign import bluesky_api
from campaign.bluesky_api import tid_for
from campaign.bundle import load_bundle
from campaign.channel_contract import TransientError
from campaign.channels.bluesky import WINDOWS, BlueskyMessenger
from campaign.db import get_engine, session_scope, utcnow
from campaign.errors import WavecastError
from campaign.post_quota import LocalQuota
from campaign.render_check import validated
from campaign.timing import resolve_starts
from tests.accounts_setup import TESTER
from tests.campaign_copy import edit
from tests.cli import wavecast
from tests.conftest import reset_caches
from tests.peers.bluesky_pds import PdsAccount, bluesky_pds_fixture, create_account
from tests.publishing_setup import LANGS, banner_alt, forget_posts_were_sent, png, post_rows, publishing_campaign
from waves.approval import approve
from waves.dispatch import enqueue_pending
from waves.launch import launch_wave
from waves.models import Delivery
from waves.sweeper import sweep

__all__ = ["bluesky_pds_fixture"]  # registers the fixture `bluesky_pds` (one PDS per test run)

# atproto's uploadBlob hands httpx the raw bytes as `data=`, which httpx 0.28 deprecates in favour
# of `content=`; the bytes are sent all the same. Only that one warning is let through.
pytestmark = [
    pytest.mark.services,
    pytest.mark.filterwarnings("ignore:Use 'content=<...>' to upload raw bytes:DeprecationWarning"),
    pytest.mark.xdist_group("bluesky_pds"),  # one PDS per run: its tests share one test process
]

POST = "app.bsky.feed.post"
BANNER = png((0, 82, 147))


def fresh_account(pds: PdsAccount, what: str) -> PdsAccount:
    # The PDS takes at most 18 characters before the handle's domain.
    return create_account(pds.base_url, f"{what}-{uuid.uuid4().hex[:8]}")


def account_entry(name: str, account: PdsAccount) -> str:
    host = account.base_url.split("//", 1)[1]
    return f"{name}=http://{quote(account.handle)}:{quote(account.app_password, safe='')}@{host}"


@pytest.fixture
def accounts(bluesky_pds: PdsAccount, monkeypatch: pytest.MonkeyPatch) -> dict[str, PdsAccount]:
    """Two fresh accounts: 'nl' for the Dutch posts, 'default' for every other language."""
    made = {"default": fresh_account(bluesky_pds, "sn"), "nl": fresh_account(bluesky_pds, "sn-nl")}
    monkeypatch.setenv("WAVECAST_BLUESKY_ACCOUNTS", ", ".join(account_entry(n, a) for n, a in made.items()))
    # A transient failure comes back within a second here; the rows still wait their full delay.
    monkeypatch.setenv("WAVECAST_RETRY_BASE_SECONDS", "0.05")
    monkeypatch.setenv("WAVECAST_RETRY_MAX_SECONDS", "0.1")
    reset_caches()
    LocalQuota._used.clear()  # the process's quota counters: fresh accounts start with none spent
    return made


def reader(account: PdsAccount) -> Client:
    client = Client(base_url=f"{account.base_url}/xrpc")
    client.login(account.handle, account.app_password, fetch_bsky_profile=False)
    return client


def records(account: PdsAccount) -> dict[str, Any]:
    """The account's posts by record key: (cid, record)."""
    listed = reader(account).com.atproto.repo.list_records(
        models.ComAtprotoRepoListRecords.Params(repo=account.did, collection=POST, limit=100)
    )
    return {r.uri.rsplit("/", 1)[1]: (r.cid, r.value) for r in listed.records}


def spans(record: Any) -> dict[str, str]:
    body = record.text.encode()
    return {
        type(feature).__name__: body[facet.index.byte_start : facet.index.byte_end].decode()
        for facet in record.facets or []
        for feature in facet.features
    }


def test_a_wave_publishes_one_post_per_audience_and_language_through_the_account_of_its_language(
    tmp_path: Path, database_url: str, accounts: dict[str, PdsAccount]
) -> None:
    bundle = publishing_campaign(tmp_path, "bluesky", accounts={"nl": "nl"}, banner=BANNER)
    due = resolve_starts(bundle.spec)["first"]

    launched = launch_wave(bundle, "first", TESTER)

    rows = post_rows(launched.run_id)
    assert launched.posts == 8 and {r.status for r in rows} == {"sent"}
    assert {(r.language, r.account) for r in rows} == {(lang, "nl" if lang == "nl" else "default") for lang in LANGS}
    published = {name: records(account) for name, account in accounts.items()}
    assert len(published["nl"]) == 2 and len(published["default"]) == 6
    for row in rows:
        _cid, record = published[row.account or ""][tid_for(due, row.message_id)]
        assert record.langs == [row.language]
        assert f"A post for {'youth' if row.audience_id == 'youth' else 'all'} in {row.language}." in record.text
        link = next(part for part in record.text.split() if part.startswith("https://"))
        assert "utm_source=bluesky" in link
        assert spans(record) == {"Link": link, "Tag": "#Mini"}
        if row.audience_id == "youth":  # its banner is a campaign file: uploaded, with its alt text
            [image] = record.embed.images
            assert image.alt == banner_alt(row.language)
            blob = reader(accounts[row.account or ""]).com.atproto.sync.get_blob(
                models.ComAtprotoSyncGetBlob.Params(did=accounts[row.account or ""].did, cid=image.image.cid.encode())
            )
            assert blob == BANNER
        else:  # its banner is on the web: a link card instead
            assert (record.embed.external.uri, record.embed.external.title) == (link, "Mini")


FLAGS = "🇧🇪🇳🇱🇫🇷🇩🇪"  # 4 graphemes as Bluesky counts them, 8 code points


def test_an_emoji_heavy_post_under_300_graphemes_is_published_whole(
    tmp_path: Path, database_url: str, accounts: dict[str, PdsAccount]
) -> None:
    draft = publishing_campaign(tmp_path, "bluesky", accounts={"nl": "nl"}, approved=False)
    for lang in LANGS:  # 180 flags: 360 code points in the text alone, 180 graphemes
        edit(draft.root / "messages" / "hello" / f"youth.{lang}.md", "A post for youth", FLAGS * 45)
    bundle = load_bundle(draft.root)
    assert validated(bundle)  # wavecast measures it as Bluesky does: no problem
    with session_scope() as session:
        approve(session, bundle, "first", TESTER)

    launched = launch_wave(bundle, "first", TESTER)

    rows = post_rows(launched.run_id)
    assert {r.status for r in rows} == {"sent"}
    published = [record for account in accounts.values() for _cid, record in records(account).values()]
    youth = [record for record in published if FLAGS in record.text]
    assert len(youth) == len(LANGS)
    assert all(record.text.startswith(FLAGS * 45) and len(record.text) > 400 for record in youth)


def test_a_publish_retried_after_a_crash_lands_on_the_same_record(
    tmp_path: Path, accounts: dict[str, PdsAccount]
) -> None:
    bundle = publishing_campaign(tmp_path, "bluesky", accounts={"nl": "nl"}, banner=BANNER)
    launched = launch_wave(bundle, "first", TESTER)
    before = {name: records(account) for name, account in accounts.items()}
    forget_posts_were_sent(launched.run_id)

    assert enqueue_pending(launched.run_id) == 1

    assert {r.status for r in post_rows(launched.run_id)} == {"sent"}
    after = {name: records(account) for name, account in accounts.items()}
    assert {n: {k: cid for k, (cid, _) in found.items()} for n, found in after.items()} == {
        n: {k: cid for k, (cid, _) in found.items()} for n, found in before.items()
    }  # the same records, unchanged: no second post


def test_a_spent_quota_holds_the_post_back_until_its_window_ends_then_it_goes_once(
    tmp_path: Path, accounts: dict[str, PdsAccount]
) -> None:
    bundle = publishing_campaign(tmp_path, "bluesky", accounts={"nl": "nl"})
    hour = WINDOWS[0]
    started = utcnow()
    this_hour = int(started.replace(tzinfo=dt.UTC).timestamp()) // hour.seconds
    for window in (this_hour, this_hour + 1):  # the next too, should the hour turn meanwhile
        LocalQuota._used[f"quota:bluesky:nl:{hour.seconds}:{window}"] = hour.points - 2  # a post costs 3

    launched = launch_wave(bundle, "first", TESTER)

    rows = post_rows(launched.run_id)
    held = next(r for r in rows if r.language == "nl" and r.audience_id == "youth")
    assert held.status == "pending" and held.attempts == 1
    assert "quota of account 'nl' spent: 5000 points per 3600 s" in (held.last_error or "")
    assert held.not_before is not None  # the end of the hour's window, whatever the backoff says
    ends = [dt.datetime.fromtimestamp((w + 1) * hour.seconds, dt.UTC) for w in (this_hour, this_hour + 1)]
    assert any(abs((held.not_before.replace(tzinfo=dt.UTC) - end).total_seconds()) < 2 for end in ends)
    assert records(accounts["nl"]) == {}
    # Only the spent account waits: the other one's posts went at once, in the same chunk; the nl
    # post after the refused one went back untried, due with it.
    assert len(records(accounts["default"])) == 6
    assert sorted((r.status, r.attempts) for r in rows if r.account == "nl") == [("pending", 0), ("pending", 1)]
    # The window ends (the counter is spent no more, the rows are due): the sweeper queues them.
    LocalQuota._used.clear()
    with get_engine().begin() as conn:
        conn.execute(update(Delivery).where(Delivery.run_id == launched.run_id).values(not_before=utcnow()))
    sweep()
    assert {r.status for r in post_rows(launched.run_id)} == {"sent"}
    assert len(records(accounts["nl"])) == 2 and len(records(accounts["default"])) == 6


RATE_LIMITED = [
    ("retry-after", {"retry-after": "42"}, 42.0),
    ("ratelimit-reset", {"ratelimit-reset": "RESET"}, 120.0),
]


@pytest.mark.parametrize(("headers", "wait"), [c[1:] for c in RATE_LIMITED], ids=[c[0] for c in RATE_LIMITED])
def test_a_429_from_the_pds_waits_as_long_as_it_says(
    monkeypatch: pytest.MonkeyPatch, accounts: dict[str, PdsAccount], headers: dict[str, str], wait: float
) -> None:
    reset = str(int(dt.datetime.now(dt.UTC).timestamp()) + 120)
    answer = Response(
        success=False,
        status_code=429,
        content=XrpcError(error="RateLimitExceeded", message="Rate Limit Exceeded"),
        headers={k: v.replace("RESET", reset) for k, v in headers.items()},
    )

    def limited(*_args: object) -> None:
        raise RateLimitExceededError(answer)

    monkeypatch.setattr(bluesky_api, "_publish", limited)
    from campaign.channel_contract import Outgoing
    from campaign.settings import get_settings

    body = (
        '{"account": "nl", "text": "Digitaal.", "link": "https://example.org", "language": "nl", '
        '"title": "Mini", "visibility": "public", "scheduled_at": "2026-03-09T09:00:00+00:00"}'
    )
    with pytest.raises(TransientError) as raised:
        BlueskyMessenger(get_settings().channels["bluesky"], get_settings()).push(
            Outgoing("k" * 32, "bluesky", body.encode())
        )
    assert raised.value.retry_after is not None and abs(raised.value.retry_after - wait) < 2
    assert "429 RateLimitExceeded: Rate Limit Exceeded" in str(raised.value)


def test_a_post_the_pds_refuses_fails_with_its_reply_shown_by_status(
    tmp_path: Path, accounts: dict[str, PdsAccount], capsys: pytest.CaptureFixture[str]
) -> None:
    # A banner over Bluesky's 1,000,000 bytes for a post image: a campaign file may be larger.
    banner = png((9, 9, 9), noise=os.urandom(1_100_000))
    bundle = publishing_campaign(tmp_path, "bluesky", accounts={"nl": "nl"}, banner=banner)

    launched = launch_wave(bundle, "first", TESTER)

    rows = post_rows(launched.run_id)
    failed = [r for r in rows if r.status == "failed"]
    assert sorted(r.language for r in failed) == sorted(LANGS) and {r.audience_id for r in failed} == {"youth"}
    assert {r.status for r in rows if r.audience_id != "youth"} == {"sent"}
    [reason] = {r.last_error for r in failed}
    assert reason is not None and reason.startswith("Bluesky refused the post: 400 ")
    shown = wavecast(capsys, "status", "--wave", "first")
    assert shown.code == 0
    assert f"failed 4 × bluesky: {reason}" in shown.out


@pytest.mark.usefixtures("signed_in")  # the command acts as an account
def test_an_unapproved_wave_publishes_nothing(
    tmp_path: Path, accounts: dict[str, PdsAccount], capsys: pytest.CaptureFixture[str]
) -> None:
    bundle = publishing_campaign(tmp_path, "bluesky", accounts={"nl": "nl"}, approved=False)
    with pytest.raises(WavecastError, match="not approved"):
        launch_wave(bundle, "first", TESTER)
    refused = wavecast(capsys, "send", str(bundle.root), "--wave", "first")
    assert refused.code != 0 and "not approved" in refused.err
    # Approved, then the post's text changed: the approval no longer holds.
    approved = publishing_campaign(tmp_path / "edited", "bluesky", accounts={"nl": "nl"})
    post = approved.root / "messages" / "hello" / "all.nl.md"
    post.write_text(post.read_text(encoding="utf-8").replace("A post for all", "Een ander bericht"), encoding="utf-8")
    edited = wavecast(capsys, "send", str(approved.root), "--wave", "first")
    assert edited.code != 0 and "not approved" in edited.err
    assert records(accounts["nl"]) == {} and records(accounts["default"]) == {}
    with get_engine().connect() as conn:
        assert conn.execute(Delivery.__table__.select()).all() == []
