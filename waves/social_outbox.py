"""The social outbox: at launch, every post of the wave (audience × language × platform) is
rendered once into database rows and JSON files, with publication times staggered per platform.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
from pathlib import Path
from typing import cast

from sqlalchemy import Table, update
from sqlalchemy.dialects import postgresql, sqlite

from campaign.bundle import Bundle
from campaign.db import get_engine
from campaign.model import PLATFORMS
from campaign.settings import get_settings
from waves.models import PENDING, SocialPost
from waves.outputs import segment_for


def _write_atomically(path: Path, data: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(data)
    os.replace(tmp, path)


def social_segments(bundle: Bundle, wave_id: str) -> list[tuple[str, str, str]]:
    """(audience, language, platform) for every social post the wave makes, in message order."""
    spec = bundle.spec
    seen: dict[tuple[str, str, str], None] = {}
    for message in spec.wave(wave_id).messages:
        for platform in message.channels:
            if platform not in PLATFORMS:
                continue
            for audience in message.audiences:
                for lang in spec.campaign.languages:
                    seen.setdefault((audience, lang, platform), None)
    return list(seen)


def fill_outbox(bundle: Bundle, run_id: int, wave_id: str, start: dt.datetime) -> int:
    """Render the wave's posts into the outbox (idempotent per run); returns how many exist."""
    settings = get_settings()
    spec = bundle.spec
    engine = get_engine()
    folder = settings.outbox_dir / "social" / f"run-{run_id}"
    count = 0
    for audience, lang, platform in social_segments(bundle, wave_id):
        post = segment_for(bundle, wave_id, audience, lang, platform)
        config = spec.channels.get(platform)  # type: ignore[call-overload]  # platform is a ChannelId
        stagger = dt.timedelta(minutes=config.stagger_minutes if config else 0)
        at = start.astimezone(dt.UTC) + stagger
        path = folder / platform / f"{wave_id}-{audience}-{lang}.json"
        payload = {
            "campaign": spec.campaign.id,
            "wave": wave_id,
            "audience": audience,
            "language": lang,
            "platform": platform,
            "scheduled_at": at.astimezone(spec.campaign.tz).isoformat(),
            "text": post.text,
            "link": post.link,
            "alt_text": post.image_alt,
            "length": post.length,
            "limit": post.limit,
            "content_hash": post.content_hash,
        }
        _write_atomically(path, json.dumps(payload, ensure_ascii=False, indent=2) + "\n")
        with engine.begin() as conn:
            insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
            conn.execute(
                insert(cast(Table, SocialPost.__table__))
                .values(
                    run_id=run_id,
                    audience_id=audience,
                    language=lang,
                    platform=platform,
                    text=post.text,
                    link=post.link,
                    alt_text=post.image_alt,
                    content_hash=post.content_hash,
                    scheduled_at=at,
                    status=PENDING,
                    attempts=0,
                    file=str(path),
                )
                .on_conflict_do_nothing()
            )
        count += 1
    return count


def mark(run_post_id: int, **values: object) -> None:
    with get_engine().begin() as conn:
        conn.execute(update(SocialPost).where(SocialPost.id == run_post_id).values(**values))
