"""Social posts are ledger rows: one per wave x audience x language x platform account, due at
their scheduled time, claimed and sent like e-mails, counted the same way.

The webhook is tested against a real HTTP server on loopback; it stands in for a social
network's API or a team's posting tool, which cannot exist here.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select, update

from campaign.db import get_engine, utcnow
from campaign.settings import get_settings
from campaign.timing import resolve_starts
from tests.accounts_setup import TESTER
from tests.conftest import reset_caches
from tests.loopback_http import serving
from tests.publishing_setup import post_rows
from tests.sending_setup import add_contacts, approved_campaign
from waves.launch import launch_wave
from waves.models import Delivery, WaveRun
from waves.status import all_status
from waves.sweeper import sweep

AUDIENCES_X_LANGUAGES = sorted((a, lang) for a in ("youth", "citizens") for lang in ("nl", "fr", "de", "en"))


class Hook:
    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.answers: list[tuple[int, bytes]] = []  # answered in turn, then 201


@pytest.fixture
def hook(monkeypatch: pytest.MonkeyPatch) -> Iterator[Hook]:
    state = Hook()

    def answer(headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
        state.requests.append((headers, body))
        return state.answers.pop(0) if state.answers else (201, b"")

    with serving(answer, "/posts") as url:
        monkeypatch.setenv("WAVECAST_SOCIAL_WEBHOOK_URL", url)
        monkeypatch.setenv("WAVECAST_SOCIAL_WEBHOOK_SECRET", "hook-secret")
        monkeypatch.setenv("WAVECAST_RETRY_BASE_SECONDS", "0.05")
        monkeypatch.setenv("WAVECAST_RETRY_MAX_SECONDS", "0.1")
        reset_caches()
        yield state


def test_launch_makes_one_post_row_per_segment_due_at_its_staggered_time(tmp_path: Path, database_url: str) -> None:
    add_contacts(4)
    bundle = approved_campaign(tmp_path, x_stagger=45)
    launched = launch_wave(bundle, "first", TESTER)
    start = resolve_starts(bundle.spec)["first"]
    posts = post_rows(launched.run_id)
    assert launched.posts == 8 and launched.rows == 4
    assert sorted((p.audience_id, p.language) for p in posts) == AUDIENCES_X_LANGUAGES
    assert {(p.channel, p.account, p.contact_id) for p in posts} == {("x", "default", None)}
    assert all(p.not_before == start.astimezone(dt.UTC) + dt.timedelta(minutes=45) for p in posts)
    assert len({p.message_id for p in posts}) == 8  # each post its own idempotency key
    # The wave's date (2023) has passed: the embedded launch sent every post through the outbox.
    assert {p.status for p in posts} == {"sent"}
    feed = (get_settings().outbox_dir / "social" / "published" / "x.jsonl").read_text(encoding="utf-8")
    lines = [json.loads(line) for line in feed.splitlines()]
    assert sorted((line["audience"], line["language"]) for line in lines) == AUDIENCES_X_LANGUAGES
    assert {line["idempotency_key"] for line in lines} == {p.message_id for p in posts}
    for line in lines:
        assert "#Mini" in line["text"] and "utm_source=x" in line["link"]
        assert line["image"]["url"] and line["image"]["alt"] == line["alt_text"]
    # A second launch adds no row and sends nothing again.
    again = launch_wave(bundle, "first", TESTER)
    assert again.posts == 8 and len(post_rows(launched.run_id)) == 8
    assert len(feed.splitlines()) == len(
        (get_settings().outbox_dir / "social" / "published" / "x.jsonl").read_text(encoding="utf-8").splitlines()
    )


def test_a_post_waits_for_its_time_then_the_sweeper_queues_it(tmp_path: Path, database_url: str) -> None:
    add_contacts(4)
    bundle = approved_campaign(tmp_path)
    engine = get_engine()
    later = utcnow() + dt.timedelta(hours=3)
    launched = launch_wave(bundle, "first", TESTER)
    run_id = launched.run_id
    # Make one post due in three hours, as if the wave had a stagger: it stays pending...
    with engine.begin() as conn:
        target = conn.scalar(select(Delivery.id).where(Delivery.run_id == run_id, Delivery.account.isnot(None)))
        conn.execute(
            update(Delivery).where(Delivery.id == target).values(status="pending", not_before=later, enqueued_at=None)
        )
        conn.execute(update(WaveRun).where(WaveRun.id == run_id).values(state="running"))
    assert sweep().requeued_chunks == 0
    row = next(p for p in post_rows(run_id) if p.id == target)
    assert (row.status, row.enqueued_at) == ("pending", None)
    with engine.connect() as conn:
        assert conn.scalar(select(WaveRun.state).where(WaveRun.id == run_id)) == "running"  # not done without it
    # ...until its time comes: then the sweeper queues it (embedded: sends it in-process).
    with engine.begin() as conn:
        conn.execute(update(Delivery).where(Delivery.id == target).values(not_before=utcnow()))
    swept = sweep()
    assert swept.requeued_chunks == 1
    assert next(p for p in post_rows(run_id) if p.id == target).status == "sent"
    sweep()
    with engine.connect() as conn:
        assert conn.scalar(select(WaveRun.state).where(WaveRun.id == run_id)) == "done"


def test_webhook_posts_signed_json_and_a_retry_keeps_its_key(tmp_path: Path, database_url: str, hook: Hook) -> None:
    add_contacts(2)
    bundle = approved_campaign(tmp_path)
    hook.answers = [(503, b"busy")]
    launched = launch_wave(bundle, "first", TESTER)
    posts = post_rows(launched.run_id)
    assert {p.status for p in posts} == {"sent"}
    assert len(hook.requests) == 9  # one answered 503 and was tried again
    keys = [headers["Idempotency-Key"] for headers, _ in hook.requests]
    assert keys[0] == keys[1]  # the retried post carries the same key
    assert set(keys) == {p.message_id for p in posts}
    # The webhook is one far side for every post (no account of its own): its 503 held back the
    # whole chunk, the e-mails too, all due at the same moment, as a relay's 4xx does.
    with get_engine().connect() as conn:
        waits = set(conn.scalars(select(Delivery.not_before).where(Delivery.run_id == launched.run_id)))
    assert len(waits) == 1 and None not in waits
    for headers, body in hook.requests:
        expected = "sha256=" + hmac.new(b"hook-secret", body, hashlib.sha256).hexdigest()
        assert headers["X-Wavecast-Signature"] == expected
        post = json.loads(body)
        assert post["platform"] == "x" and post["link"].startswith("https://")


@pytest.mark.parametrize(
    ("code", "reply"),
    [
        (422, b'{"error": "Text too long"}'),
        (400, b"duplicate status"),
        (403, b"account suspended"),
    ],
)
def test_a_refused_post_fails_alone_with_the_platform_reply(
    tmp_path: Path, database_url: str, hook: Hook, code: int, reply: bytes
) -> None:
    add_contacts(2)
    bundle = approved_campaign(tmp_path)
    hook.answers = [(code, reply)]
    launched = launch_wave(bundle, "first", TESTER)
    posts = post_rows(launched.run_id)
    failed = [p for p in posts if p.status == "failed"]
    assert len(failed) == 1 and len(posts) == 8
    assert failed[0].last_error == f"webhook answered {code}: {reply.decode()}"
    assert {p.status for p in posts if p is not failed[0]} == {"sent"}
    with get_engine().connect() as conn:
        [status] = all_status(conn, "first")
    assert status["totals"]["failed"] == 1 and status["totals"]["sent"] == 2 + 7
    assert status["failures"] == [{"channel": "x", "reason": failed[0].last_error, "count": 1}]
