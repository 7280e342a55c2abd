"""A post's uploaded banner, remembered on its ledger row between the upload and the post.

A platform that takes media as a separate upload hands back an id before the post exists. The
id is written to the row (by the post's delivery key, which is the row's) as soon as the
platform answers, so a worker that dies before the post is published leaves it behind and the
retry attaches the same upload: one upload per post, however often the post is tried.
"""

from __future__ import annotations

from sqlalchemy import select, update

from campaign.db import get_engine
from waves.models import Delivery


def uploaded(key: str, channel: str) -> str | None:
    """The media id an earlier try of this post uploaded, or None."""
    with get_engine().connect() as conn:
        found = conn.scalar(select(Delivery.media_id).where(Delivery.message_id == key, Delivery.channel == channel))
    return found


def remember_upload(key: str, channel: str, media_id: str | None) -> None:
    """Keep (or, with None, forget) the media id of this post's upload."""
    with get_engine().begin() as conn:
        conn.execute(
            update(Delivery).where(Delivery.message_id == key, Delivery.channel == channel).values(media_id=media_id)
        )
