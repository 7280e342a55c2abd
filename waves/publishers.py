"""Publishing social posts when they fall due, through one small interface.

Two publishers: the outbox (default), which appends each due post to a per-platform JSON-lines
feed a team or a social scheduler imports; and a webhook, an HTTP POST of the post as JSON,
signed with HMAC-SHA256 and carrying an Idempotency-Key so a retried POST is recognisable.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
from pathlib import Path
from typing import Any, Protocol

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaign.db import get_engine, utcnow
from campaign.settings import Settings, get_settings
from waves.models import FAILED, PENDING, SocialPost
from waves.social_outbox import mark

log = logging.getLogger(__name__)
PUBLISHED = "published"


class PublishError(Exception):
    pass


class Publisher(Protocol):
    def publish(self, post: dict[str, Any], key: str) -> None: ...


class OutboxPublisher:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def publish(self, post: dict[str, Any], key: str) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        feed = self.directory / f"{post['platform']}.jsonl"
        with feed.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps({**post, "idempotency_key": key}, ensure_ascii=False) + "\n")


class WebhookPublisher:
    def __init__(self, url: str, secret: str, timeout: float = 10.0) -> None:
        self.url = url
        self.secret = secret.encode()
        self.timeout = timeout

    def signature(self, body: bytes) -> str:
        return "sha256=" + hmac.new(self.secret, body, hashlib.sha256).hexdigest()

    def publish(self, post: dict[str, Any], key: str) -> None:
        body = json.dumps(post, ensure_ascii=False, sort_keys=True).encode()
        headers = {
            "Content-Type": "application/json",
            "Idempotency-Key": key,
            "X-Wavecast-Signature": self.signature(body),
        }
        try:
            response = httpx.post(self.url, content=body, headers=headers, timeout=self.timeout)
        except httpx.HTTPError as exc:
            raise PublishError(f"webhook unreachable: {exc}") from None
        if response.status_code >= 300:
            raise PublishError(f"webhook answered {response.status_code}: {response.text[:200]}")


def make_publisher(settings: Settings) -> Publisher:
    if settings.social_webhook_url:
        return WebhookPublisher(settings.social_webhook_url, settings.social_webhook_secret or settings.secret_key)
    return OutboxPublisher(settings.outbox_dir / "social" / "published")


def idempotency_key(post: SocialPost) -> str:
    raw = f"{post.run_id}:{post.audience_id}:{post.language}:{post.platform}:{post.content_hash}"
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


def publish_due(now: dt.datetime | None = None, publisher: Publisher | None = None) -> int:
    """Publish every pending post whose time has come; returns how many were published."""
    settings = get_settings()
    publisher = publisher or make_publisher(settings)
    now = now or utcnow()
    with get_engine().connect() as conn:
        due = (
            Session(bind=conn)
            .scalars(
                select(SocialPost)
                .where(SocialPost.status == PENDING, SocialPost.scheduled_at <= now)
                .order_by(SocialPost.id)
            )
            .all()
        )
    done = 0
    for post in due:
        payload = {
            "run": post.run_id,
            "audience": post.audience_id,
            "language": post.language,
            "platform": post.platform,
            "text": post.text,
            "link": post.link,
            "alt_text": post.alt_text,
            "scheduled_at": post.scheduled_at.isoformat(),
        }
        try:
            publisher.publish(payload, idempotency_key(post))
        except PublishError as exc:
            attempts = post.attempts + 1
            state = FAILED if attempts >= settings.max_attempts else PENDING
            log.warning("post %s (%s) not published: %s", post.id, post.platform, exc)
            mark(post.id, attempts=attempts, status=state, last_error=str(exc)[:2000])
            continue
        mark(post.id, attempts=post.attempts + 1, status=PUBLISHED, published_at=utcnow(), last_error=None)
        done += 1
    return done
