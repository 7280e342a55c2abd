"""Building blocks for direct-publishing tests (Bluesky, Mastodon): a copy of the minimal campaign
that posts on one platform, with an account per language where asked and the youth messages'
banner as a campaign file, and the post rows of a run."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from campaign.bundle import Bundle, load_bundle
from campaign.db import get_engine, session_scope
from tests.accounts_setup import TESTER
from tests.campaign_copy import copy_campaign, edit
from waves.approval import approve
from waves.models import Delivery, WaveRun

LANGS = ("nl", "fr", "de", "en")


def png(rgb: tuple[int, int, int], side: int = 2, *, noise: bytes = b"") -> bytes:
    """A valid PNG of one colour (plus NOISE as an ancillary chunk, to make a file as large as wanted)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + bytes(rgb) * side for _ in range(side))
    header = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    extra = chunk(b"teXt", b"noise\x00" + noise) if noise else b""
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + extra
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def banner_alt(lang: str) -> str:
    return f"Jongeren aan een laptop, SmartNation ({lang})"


def publishing_campaign(
    tmp_path: Path,
    platform: str,
    *,
    accounts: dict[str, str] | None = None,
    banner: bytes | None = None,
    banner_name: str = "banner.png",
    extra: str = "",
    approved: bool = True,
) -> Bundle:
    """The minimal campaign's first wave on newsletter and PLATFORM; the youth posts carry BANNER
    as a campaign file (the others link to an image on the web, so they get no upload)."""
    camp = copy_campaign(tmp_path)
    yaml = camp / "campaign.yaml"
    edit(yaml, "channels: [newsletter, x]", f"channels: [newsletter, {platform}]", count=2)
    named = ", ".join(f"{lang}: {name}" for lang, name in (accounts or {}).items())
    edit(
        yaml,
        "ambitions:\n",
        f"channels:\n  newsletter: {{}}\n  {platform}: {{accounts: {{{named}}}{extra}}}\nambitions:\n",
    )
    if banner is not None:
        (camp / "images").mkdir()
        (camp / "images" / banner_name).write_bytes(banner)
        for lang in LANGS:
            edit(
                camp / "messages" / "hello" / f"youth.{lang}.md",
                f'image: {{src: "https://example.org/banner.png", alt: "Banner ({lang})"}}',
                f'image: {{src: "images/{banner_name}", alt: "{banner_alt(lang)}"}}',
            )
    bundle = load_bundle(camp)
    if approved:
        with session_scope() as session:
            for wave in bundle.spec.waves:
                approve(session, bundle, wave.id, TESTER)
    return bundle


def post_rows(run_id: int) -> list[Delivery]:
    """The run's post rows (a platform account, no contact), in ledger order."""
    query = select(Delivery).where(Delivery.run_id == run_id, Delivery.account.isnot(None)).order_by(Delivery.id)
    with get_engine().connect() as conn:
        return list(Session(bind=conn).scalars(query))


def forget_posts_were_sent(run_id: int) -> None:
    """A worker died after the platform took the run's posts and before the ledger heard of it:
    the post rows are pending again, and the run is running, so they are published a second time."""
    with get_engine().begin() as conn:
        conn.execute(
            update(Delivery)
            .where(Delivery.run_id == run_id, Delivery.account.isnot(None))
            .values(status="pending", claimed_by=None)
        )
        conn.execute(update(WaveRun).where(WaveRun.id == run_id).values(state="running"))
