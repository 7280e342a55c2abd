"""Click counting: links that go through a signed redirect and add one to a counter.

Off by default; a campaign turns it on with ``click_tracking: true``. The token signs only
what the count is kept by: campaign, wave, audience, language and the link itself. It names
no person and the redirect stores nothing about the request (no address, no time, no
cookie), so clicks can be counted per wave × audience × language × link and never per
person. Open-tracking pixels are not offered.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from itsdangerous import BadData, URLSafeSerializer
from sqlalchemy import Connection, Integer, String, Text, UniqueConstraint, func, select
from sqlalchemy.orm import Mapped, mapped_column

from campaign.db import Base, dialect_insert, get_engine
from campaign.errors import WavecastError
from campaign.settings import get_settings

_SALT = "wavecast.click"
MAX_LINK = 2000


class ClickCount(Base):
    """How often one link of one segment (wave × audience × language) was followed."""

    __tablename__ = "click_counts"
    __table_args__ = (UniqueConstraint("campaign_id", "wave_id", "audience_id", "language", "link_hash"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[str] = mapped_column(String(64))
    wave_id: Mapped[str] = mapped_column(String(64))
    audience_id: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(8))
    link_hash: Mapped[str] = mapped_column(String(64))
    link: Mapped[str] = mapped_column(Text)
    clicks: Mapped[int] = mapped_column(Integer, default=0)


class InvalidClick(WavecastError):
    """A click token that was not made by us (forged or damaged)."""


@dataclass(frozen=True)
class Click:
    campaign: str
    wave: str
    audience: str
    language: str
    link: str


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(get_settings().secret_key, salt=_SALT)


def _web_link(link: str) -> bool:
    parts = urlsplit(link)
    return parts.scheme in ("http", "https") and bool(parts.netloc) and len(link) <= MAX_LINK


def click_token(campaign: str, wave: str, audience: str, language: str, link: str) -> str:
    """The signed token for one link of one segment; deterministic, so rendering stays stable."""
    if not _web_link(link):
        raise WavecastError(f"only http(s) links can be click-counted, not {link!r}")
    return str(_serializer().dumps([campaign, wave, audience, language, link]))


def tracked_url(campaign: str, wave: str, audience: str, language: str, link: str, base_url: str | None = None) -> str:
    """The redirect address that counts a click on ``link`` and then sends the reader there.

    The renderer calls this once per link and segment when ``campaign.click_tracking`` is on;
    ``mailto:`` and other non-web links, and the unsubscribe link, must be left as they are.
    """
    base = (base_url or get_settings().base_url).rstrip("/")
    return f"{base}/c/{click_token(campaign, wave, audience, language, link)}"


def read_token(token: str) -> Click:
    """What a token says; raises InvalidClick when it was not signed with our key."""
    try:
        value: Any = _serializer().loads(token)
    except BadData:
        raise InvalidClick("this link is not valid") from None
    if not (isinstance(value, list) and len(value) == 5 and all(isinstance(v, str) for v in value)):
        raise InvalidClick("this link is not valid")
    click = Click(*value)
    if not _web_link(click.link):
        raise InvalidClick("this link is not valid")
    return click


def count_click(click: Click) -> None:
    """Add one to the link's counter, atomically (INSERT ... ON CONFLICT DO UPDATE)."""
    table = ClickCount.__table__
    with get_engine().begin() as conn:
        statement = dialect_insert(conn, table).values(
            campaign_id=click.campaign,
            wave_id=click.wave,
            audience_id=click.audience,
            language=click.language,
            link_hash=hashlib.sha256(click.link.encode()).hexdigest(),
            link=click.link,
            clicks=1,
        )
        conn.execute(
            statement.on_conflict_do_update(
                index_elements=["campaign_id", "wave_id", "audience_id", "language", "link_hash"],
                set_={"clicks": table.c.clicks + 1},
            )
        )


def click_counts(conn: Connection, campaign_id: str, wave_id: str | None = None) -> list[dict[str, Any]]:
    """Counts per wave × audience × language × link, for the report."""
    c = ClickCount.__table__.c
    query = (
        select(c.wave_id, c.audience_id, c.language, c.link, func.sum(c.clicks))
        .where(c.campaign_id == campaign_id)
        .group_by(c.wave_id, c.audience_id, c.language, c.link)
        .order_by(c.wave_id, c.audience_id, c.language, c.link)
    )
    if wave_id is not None:
        query = query.where(c.wave_id == wave_id)
    return [
        {"wave": w, "audience": a, "language": lang, "link": link, "clicks": int(n)}
        for w, a, lang, link, n in conn.execute(query)
    ]
