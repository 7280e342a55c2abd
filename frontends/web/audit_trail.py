"""What the web app's editing records in the audit log: a `wave.edit` entry per wave whose
content changed, under the account that changed it. The four-eyes rule reads these entries: who
edited a wave in the web app may not approve it (``waves.approval.authors``)."""

from __future__ import annotations

from typing import Any

from accounts import audit
from accounts.roles import Actor
from campaign.db import session_scope
from campaign.model import Campaign
from waves.approval import campaign_wave_key


def waves_using(spec: Campaign, name: str) -> list[str]:
    """The waves with a message read from the message file `name` (in any language)."""
    return [wave.id for wave in spec.waves if any(name.startswith(f"messages/{m.template}.") for m in wave.messages)]


def recorded_edit(actor: Actor, spec: Campaign, wave_ids: list[str], before: Any, after: Any) -> None:
    """One `wave.edit` entry per wave, in one transaction."""
    with session_scope() as session:
        for wave_id in wave_ids:
            key = campaign_wave_key(spec.campaign.id, wave_id)
            audit.record(session, actor, "wave.edit", "wave", key, before=before, after=after)
