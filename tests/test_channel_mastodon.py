"""The Mastodon channel against a loopback stand-in for the Mastodon REST API.

It is a stand-in because no Mastodon server can run here (tests/peers/mastodon_api.py says why):
it checks every request against Mastodon's documented API and answers as Mastodon does. Two
stand-ins play two instances, so the Dutch posts can go through an account of their own.

A launched wave publishes one status per audience x language with its language, the campaign's
visibility, the banner with its alt text (waiting for Mastodon to process it) and the ledger key
as Idempotency-Key; a publish retried after a crash gets the first status back and makes none; a
429 keeps that account's posts waiting as long as the server says while the chunk's e-mails and
the other account's posts go at once; a refused status fails with Mastodon's
reply, shown by `wavecast status`; and a real Celery worker publishes the same way.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import select, update

from campaign.db import get_engine, utcnow
from tests.accounts_setup import TESTER
from tests.cli import wavecast, wavecast_process
from tests.conftest import ROOT, reset_caches
from tests.peers.api_server import ApiError, Params
from tests.peers.mastodon_api import MastodonApi, running_mastodon
from tests.publishing_setup import LANGS, banner_alt, forget_posts_were_sent, png, post_rows, publishing_campaign
from tests.sending_setup import add_contacts
from tests.waiting import wait_for
from tests.worker_process import WorkerProcess, service_env
from waves.dispatch import enqueue_pending
from waves.launch import launch_wave
from waves.models import Delivery, WaveRun
from waves.sweeper import sweep

BANNER = png((0, 82, 147))


class Instances:
    def __init__(self, nl: MastodonApi, default: MastodonApi) -> None:
        self.by_account = {"nl": nl, "default": default}

    def statuses(self) -> int:
        return sum(len(api.statuses) for api in self.by_account.values())


def account_entry(name: str, api: MastodonApi) -> str:
    return f"{name}=http://smartnation:{api.token}@{api.base_url.split('//', 1)[1]}"


@pytest.fixture
def instances(monkeypatch: pytest.MonkeyPatch) -> Iterator[Instances]:
    # The banner takes two polls to process, as a real instance takes a moment.
    with running_mastodon(MastodonApi(processing_polls=2)) as nl, running_mastodon() as default:
        found = Instances(nl, default)
        entries = ", ".join(account_entry(n, api) for n, api in found.by_account.items())
        monkeypatch.setenv("WAVECAST_MASTODON_ACCOUNTS", entries)
        monkeypatch.setenv("WAVECAST_RETRY_BASE_SECONDS", "0.05")
        monkeypatch.setenv("WAVECAST_RETRY_MAX_SECONDS", "0.1")
        reset_caches()
        yield found


def test_a_wave_publishes_one_status_per_audience_and_language_with_language_visibility_and_alt_text(
    tmp_path: Path, database_url: str, instances: Instances
) -> None:
    bundle = publishing_campaign(
        tmp_path, "mastodon", accounts={"nl": "nl"}, banner=BANNER, extra=", visibility: unlisted"
    )

    launched = launch_wave(bundle, "first", TESTER)

    rows = post_rows(launched.run_id)
    assert launched.posts == 8 and {r.status for r in rows} == {"sent"}
    assert {(r.language, r.account) for r in rows} == {(lang, "nl" if lang == "nl" else "default") for lang in LANGS}
    assert len(instances.by_account["nl"].statuses) == 2 and len(instances.by_account["default"].statuses) == 6
    for row in rows:
        api = instances.by_account[row.account or ""]
        [status] = [s for s in api.statuses.values() if s.idempotency_key == row.message_id]
        assert (status.language, status.visibility) == (row.language, "unlisted")
        assert f"in {row.language}." in status.text and "#Mini" in status.text and "utm_source=mastodon" in status.text
        media = [api.media[m] for m in status.media_ids]
        if row.audience_id == "youth":  # its banner is a campaign file: uploaded, with its alt text
            assert [(m.description, m.data) for m in media] == [(banner_alt(row.language), BANNER)]
        else:
            assert media == []


def test_a_publish_retried_after_a_crash_gets_the_first_status_back(tmp_path: Path, instances: Instances) -> None:
    bundle = publishing_campaign(tmp_path, "mastodon", accounts={"nl": "nl"}, banner=BANNER)
    launched = launch_wave(bundle, "first", TESTER)
    before = {n: sorted(api.statuses) for n, api in instances.by_account.items()}
    forget_posts_were_sent(launched.run_id)

    assert enqueue_pending(launched.run_id) == 1

    assert {r.status for r in post_rows(launched.run_id)} == {"sent"}
    assert {n: sorted(api.statuses) for n, api in instances.by_account.items()} == before


@pytest.mark.usefixtures("signed_in")  # the commands act as an account
def test_a_post_retried_after_its_worker_died_between_upload_and_status_uploads_its_banner_once(
    tmp_path: Path, instances: Instances
) -> None:
    bundle = publishing_campaign(tmp_path, "mastodon", accounts={"nl": "nl"}, banner=BANNER)
    send = [sys.executable, "-m", "frontends", "send", str(bundle.root), "--wave", "first"]
    worker = subprocess.Popen(send, cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT)})
    crashed: list[tuple[MastodonApi, list[str]]] = []

    def die_before_the_first_status_with_media(api: MastodonApi) -> Callable[[Params], None]:
        def hook(params: Params) -> None:
            if params.many("media_ids") and not crashed:
                worker.kill()  # the banner is uploaded; the status is not published
                worker.wait()
                crashed.append((api, params.many("media_ids")))
                raise ApiError(503, "the worker is gone")

        return hook

    for api in instances.by_account.values():
        api.before_status = die_before_the_first_status_with_media(api)
    try:
        worker.wait(timeout=120)
    finally:
        worker.kill()
    for api in instances.by_account.values():
        api.before_status = None
    assert crashed, "the send ended without publishing a status with media"

    again = wavecast_process("send", str(bundle.root), "--wave", "first", cwd=tmp_path)

    assert again.returncode == 0, again.stderr
    with get_engine().connect() as conn:
        [run_id] = conn.scalars(select(WaveRun.id)).all()  # one run: the second send finished the first
    rows = post_rows(run_id)
    assert len(rows) == 8 and {r.status for r in rows} == {"sent"}
    media = [m for api in instances.by_account.values() for m in api.media.values()]
    assert len(media) == len(LANGS)  # one upload per youth post, the crashed one included
    assert all(m.status_id is not None for m in media)  # none left behind unattached
    [(api, first_upload)] = crashed
    # The retry published the post once, with the upload made before the worker died.
    assert [s.media_ids for s in api.statuses.values() if s.media_ids == first_upload] == [first_upload]


@pytest.mark.usefixtures("signed_in")  # the command acts as an account
@pytest.mark.parametrize("throttled", ["nl", "default"])
def test_a_429_holds_back_only_that_accounts_posts_while_emails_and_the_other_account_go_at_once(
    tmp_path: Path, instances: Instances, capsys: pytest.CaptureFixture[str], throttled: str
) -> None:
    add_contacts(4)
    bundle = publishing_campaign(tmp_path, "mastodon", accounts={"nl": "nl"})
    other = "default" if throttled == "nl" else "nl"
    instances.by_account[throttled].throttle(1, retry_after=60)
    started = utcnow()

    shown = wavecast(capsys, "send", str(bundle.root), "--wave", "first")

    # One chunk carried the e-mails and both accounts' posts; it did not wait for the 429.
    assert shown.code == 0 and "4 message(s) to people, 8 post(s), 1 chunk(s) queued" in shown.out
    with get_engine().connect() as conn:
        run_id: int = conn.execute(select(WaveRun.id).where(WaveRun.wave_id == "first")).scalar_one()
        emails = conn.execute(select(Delivery.status).where(Delivery.run_id == run_id, Delivery.account.is_(None)))
        assert [status for (status,) in emails] == ["sent"] * 4
    rows = post_rows(run_id)
    went = [r for r in rows if r.account == other]
    held = [r for r in rows if r.account == throttled]
    assert {r.status for r in went} == {"sent"} and len(instances.by_account[other].statuses) == len(went)
    assert {r.status for r in held} == {"pending"} and instances.by_account[throttled].statuses == {}
    # The post that met the 429 counts a try; the account's others went back untried, due with it.
    assert sorted(r.attempts for r in held) == [0] * (len(held) - 1) + [1]
    assert {r.last_error for r in held} == {"Mastodon answered 429: too many requests"}
    [not_before] = {r.not_before for r in held}
    assert not_before is not None and all(r.enqueued_at is None for r in held)  # for the sweeper
    waited = (not_before - started).total_seconds()
    assert 55 <= waited <= 65  # Retry-After: 60, not the 0.05 s backoff
    assert f"{len(held)} × mastodon (account {throttled}): Mastodon answered 429: too many requests" in shown.out
    # The 60 s are over: the sweeper queues the held posts, and each is published once.
    with get_engine().begin() as conn:
        conn.execute(update(Delivery).where(Delivery.run_id == run_id).values(not_before=utcnow()))
    sweep()
    assert {r.status for r in post_rows(run_id)} == {"sent"}
    keys = sorted(s.idempotency_key or "" for s in instances.by_account[throttled].statuses.values())
    assert keys == sorted(r.message_id for r in held)


def test_a_refused_status_fails_with_mastodons_reply_shown_by_status(
    tmp_path: Path, instances: Instances, capsys: pytest.CaptureFixture[str]
) -> None:
    # A PNG named .jpg: Mastodon refuses a file whose bytes are not the type it is sent as.
    bundle = publishing_campaign(tmp_path, "mastodon", accounts={"nl": "nl"}, banner=BANNER, banner_name="banner.jpg")

    launched = launch_wave(bundle, "first", TESTER)

    rows = post_rows(launched.run_id)
    failed = [r for r in rows if r.status == "failed"]
    assert sorted(r.language for r in failed) == sorted(LANGS) and {r.audience_id for r in failed} == {"youth"}
    assert {r.status for r in rows if r.audience_id != "youth"} == {"sent"}
    reason = (
        "Mastodon refused the post: 422 Validation failed: File has contents that are not what they are reported to be"
    )
    assert {r.last_error for r in failed} == {reason}
    shown = wavecast(capsys, "status", "--wave", "first")
    assert shown.code == 0 and f"failed 4 × mastodon: {reason}" in shown.out
    assert instances.statuses() == 4


@pytest.mark.services
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_celery_worker_publishes_the_posts_once(
    tmp_path: Path, database_url: str, redis_url: str, instances: Instances, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WAVECAST_BROKER_URL", redis_url)
    reset_caches()
    worker = WorkerProcess(service_env(), tmp_path / "worker.log")
    worker.start()
    try:
        bundle = publishing_campaign(tmp_path, "mastodon", accounts={"nl": "nl"}, banner=BANNER)
        launched = launch_wave(bundle, "first", TESTER)
        wait_for(lambda: {r.status for r in post_rows(launched.run_id)} == {"sent"}, "the worker to publish")
    finally:
        worker.stop()
    assert len(instances.by_account["nl"].statuses) == 2 and len(instances.by_account["default"].statuses) == 6
    keys = sorted(s.idempotency_key or "" for api in instances.by_account.values() for s in api.statuses.values())
    assert keys == sorted(r.message_id for r in post_rows(launched.run_id))
