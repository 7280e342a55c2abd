"""A wave's social posts as ledger rows: one per wave x audience x language x platform account,
due at the post's scheduled time (the wave's start plus the platform's stagger).

Made at launch, next to the e-mail rows and in the same idempotent way (ON CONFLICT DO NOTHING
on uq_deliveries_post), so a second launch adds nothing. The post's text is not stored: the
worker renders it from the approved files when it sends, like an e-mail.
"""

from __future__ import annotations

import datetime as dt
import hashlib

from campaign.bundle import Bundle
from campaign.channel_ids import is_post
from campaign.db import dialect_insert, get_engine
from campaign.post_sender import DEFAULT_ACCOUNT
from waves.models import PENDING, Delivery
from waves.outputs import post_for


def account_for(bundle: Bundle, platform: str, lang: str) -> str:
    """The account that publishes the platform's posts in LANG: the campaign's choice, else 'default'.

    The name goes on the post's ledger row; the secret stays in the settings."""
    config = bundle.spec.channels.get(platform)
    return config.accounts.get(lang, DEFAULT_ACCOUNT) if config is not None else DEFAULT_ACCOUNT


def post_key(run_id: int, audience_id: str, language: str, platform: str, content_hash: str) -> str:
    """The post's idempotency key, also its ledger message_id: the same on every retry."""
    raw = f"{run_id}:{audience_id}:{language}:{platform}:{content_hash}"
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


def post_segments(bundle: Bundle, wave_id: str) -> list[tuple[str, str, str]]:
    """(audience, language, platform) for every social post the wave makes, in message order."""
    spec = bundle.spec
    seen: dict[tuple[str, str, str], None] = {}
    for message in spec.wave(wave_id).messages:
        for platform in message.channels:
            if not is_post(platform):
                continue
            for audience in message.audiences:
                for lang in spec.campaign.languages:
                    seen.setdefault((audience, lang, platform), None)
    return list(seen)


def add_post_rows(bundle: Bundle, run_id: int, wave_id: str, start: dt.datetime) -> int:
    """Insert the wave's post rows (idempotent per run); returns how many the wave has."""
    rows = []
    for audience, lang, platform in post_segments(bundle, wave_id):
        post = post_for(bundle, wave_id, audience, lang, platform)
        config = bundle.spec.channels.get(platform)
        stagger = dt.timedelta(minutes=config.stagger_minutes if config else 0)
        rows.append(
            {
                "run_id": run_id,
                "contact_id": None,
                "channel": platform,
                "account": account_for(bundle, platform, lang),
                "message_id": post_key(run_id, audience, lang, platform, post.content_hash),
                "audience_id": audience,
                "language": lang,
                "status": PENDING,
                "attempts": 0,
                "not_before": start.astimezone(dt.UTC) + stagger,
            }
        )
    if rows:
        with get_engine().begin() as conn:
            conn.execute(dialect_insert(conn, Delivery.__table__).values(rows).on_conflict_do_nothing())
    return len(rows)
