"""Rows the web tests start from: a wave that is sending, and a pending initiative request."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Connection, insert

from campaign.db import utcnow
from campaign.initiative_models import InitiativeRequest
from waves.models import WaveRun


def sending_run(conn: Connection, campaign_dir: Path) -> None:
    """The minimal campaign's second wave, sending: something to pause, resume and cancel."""
    now = utcnow()
    conn.execute(
        insert(WaveRun).values(
            run_key="mini:second",
            campaign_id="mini",
            wave_id="second",
            campaign_dir=str(campaign_dir),
            content_hash="h" * 64,
            state="running",
            launched_by="test",
            created_at=now,
            updated_at=now,
        )
    )


def pending_request(conn: Connection, organisation: str = "Org", contact_email: str = "org@example.net") -> int:
    """A pending publication request for the minimal campaign's `open-data`; returns its id."""
    result = conn.execute(
        insert(InitiativeRequest).values(
            campaign_id="mini",
            initiative_id="open-data",
            organisation=organisation,
            contact_email=contact_email,
            title={"en": "Open data"},
            description={"en": "About open data"},
            ambition="skills",
            url="https://example.org/",
            status="pending",
            submitted_at=utcnow(),
        )
    )
    return int(result.inserted_primary_key[0])
