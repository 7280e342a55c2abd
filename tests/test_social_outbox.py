"""Social posts at launch: outbox rows and files, staggered times, and publishing.

The webhook publisher is tested against a real HTTP server on loopback; it stands in for a
social network's API, which cannot exist here.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import select

from campaign.db import session_scope
from campaign.timing import resolve_starts
from tests.sending_setup import add_contacts, approved_campaign
from waves.launch import launch_wave
from waves.models import SocialPost
from waves.publishers import WebhookPublisher, publish_due


class Hook:
    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.fail_next = 0


@pytest.fixture
def hook() -> Iterator[tuple[Hook, str]]:
    state = Hook()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state.requests.append((dict(self.headers), body))
            code = 503 if state.fail_next > 0 else 201
            state.fail_next = max(0, state.fail_next - 1)
            self.send_response(code)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state, f"http://127.0.0.1:{server.server_address[1]}/posts"
    finally:
        server.shutdown()
        server.server_close()


def test_launch_fills_the_outbox_with_staggered_posts(tmp_path: Path, database_url: str) -> None:
    add_contacts(4)
    bundle = approved_campaign(tmp_path, x_stagger=45)
    launched = launch_wave(bundle, "first", "tester")
    start = resolve_starts(bundle.spec)["first"]
    with session_scope() as session:
        posts = session.scalars(select(SocialPost).where(SocialPost.run_id == launched.run_id)).all()
    assert sorted((p.audience_id, p.language) for p in posts) == sorted(
        (a, lang) for a in ("youth", "citizens") for lang in ("nl", "fr", "de", "en")
    )
    for post in posts:
        saved = json.loads(Path(post.file or "").read_text(encoding="utf-8"))
        assert saved["text"] == post.text and "utm_source=x" in saved["link"]
        assert "#Mini" in post.text
        assert post.alt_text
        assert post.scheduled_at == start.astimezone(dt.UTC) + dt.timedelta(minutes=45)
    # The wave's date (2023) has passed, so the embedded launch published every post at once.
    assert {p.status for p in posts} == {"published"}


def test_webhook_posts_signed_json_with_an_idempotency_key(
    tmp_path: Path, database_url: str, hook: tuple[Hook, str]
) -> None:
    state, url = hook
    from campaign.settings import get_settings
    from waves.social_outbox import fill_outbox

    add_contacts(2)
    bundle = approved_campaign(tmp_path)
    from campaign.db import get_engine, utcnow
    from waves.content import wave_content_hash
    from waves.launch import _claim_run

    with get_engine().begin() as conn:
        run, _ = _claim_run(conn, bundle, "first", wave_content_hash(bundle, "first"), "tester")
    assert fill_outbox(bundle, run.id, "first", utcnow()) == 8
    state.fail_next = 1
    publisher = WebhookPublisher(url, "hook-secret")
    assert publish_due(publisher=publisher) == 7  # one answered 503 and waits for the next round
    assert publish_due(publisher=publisher) == 1
    assert len(state.requests) == 9
    keys = [headers["Idempotency-Key"] for headers, _ in state.requests]
    assert keys[0] == keys[-1]  # the retried post carries the same key
    assert len(set(keys)) == 8
    for headers, body in state.requests:
        expected = "sha256=" + hmac.new(b"hook-secret", body, hashlib.sha256).hexdigest()
        assert headers["X-Wavecast-Signature"] == expected
        post = json.loads(body)
        assert post["platform"] == "x" and post["link"].startswith("https://")
    assert get_settings().social_webhook_url is None
