"""From one of our Message-IDs back to its ledger row.

A newsletter's Message-ID is ``<campaign.wave.contact.newsletter@domain>`` (campaign/mime.py):
deterministic, so a resend is recognisable, and therefore guessable. It may name a row only in a
report whose sender proved who it is (waves/bounces/intake.SIGNED_SOURCES).
"""

from __future__ import annotations

import re

from sqlalchemy import Connection, select

from campaign.channel_ids import NEWSLETTER
from waves.models import Delivery, WaveRun

_OURS = re.compile(r"^<?([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\.([0-9]{1,19})\." + NEWSLETTER + r"@[^>\s]+>?$")


def delivery_of(conn: Connection, message_id: str) -> int | None:
    """The ledger row of the newest run that sent this Message-ID, if it is one of ours."""
    found = _OURS.match(message_id.strip())
    if found is None:
        return None
    campaign_id, wave_id, contact_id = found.group(1), found.group(2), int(found.group(3))
    return conn.scalar(
        select(Delivery.id)
        .join(WaveRun, WaveRun.id == Delivery.run_id)
        .where(
            WaveRun.campaign_id == campaign_id,
            WaveRun.wave_id == wave_id,
            Delivery.contact_id == contact_id,
            Delivery.channel == NEWSLETTER,
        )
        .order_by(Delivery.run_id.desc())
        .limit(1)
    )
