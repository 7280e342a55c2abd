"""One golden file per channel for one combination (wave first, audience youth, Dutch).

A change in rendering shows up as a diff against tests/golden/. When the change is meant,
regenerate the files and review the diff:

    WAVECAST_REGENERATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_render_golden.py
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import pytest

from campaign.bundle import load_bundle
from campaign.channel_ids import channels
from campaign.mime import message_id
from campaign.newsletter import NewsletterSegment
from campaign.segment import render_segment
from tests.campaign_copy import copy_campaign, edit
from tests.conftest import ROOT, reset_caches

GOLDEN = ROOT / "tests" / "golden"
REGENERATE = os.environ.get("WAVECAST_REGENERATE_GOLDEN") == "1"


def campaign_on(tmp_path: Path, channel: str) -> Path:
    """The minimal campaign with its messages on the newsletter and CHANNEL only: a segment's
    content hash covers its message's channels, so a channel added to wavecast leaves the
    other channels' golden files as they are."""
    directory = copy_campaign(tmp_path)
    listed = ", ".join(dict.fromkeys(("newsletter", channel)))
    edit(directory / "campaign.yaml", "channels: [newsletter, x]", f"channels: [{listed}]", count=2)
    return directory


def rendered(camp: Path, channel: str) -> tuple[str, bytes]:
    output = render_segment(load_bundle(camp), "first", "youth", "nl", channel)
    if isinstance(output, NewsletterSegment):
        raw = output.personalise(
            to="Zoë Peeters <zoe@example.org>",
            fields={"first_name": "Zoë", "organisation_name": "Bakkerij Verhaegen"},
            unsubscribe_url="https://wavecast.example.org/u/golden-token",
            message_id=message_id("mini", "first", 1001, "newsletter", "example.org"),
            date=dt.datetime(2023, 6, 12, 8, 0, tzinfo=dt.UTC),
        )
        return "newsletter.eml", raw
    return f"{channel}.json", (
        json.dumps(output.as_json(), ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    ).encode()


@pytest.mark.parametrize("channel", channels())
def test_output_matches_its_golden_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, channel: str) -> None:
    monkeypatch.setenv("WAVECAST_BASE_URL", "https://wavecast.example.org")
    reset_caches()
    name, data = rendered(campaign_on(tmp_path, channel), channel)
    path = GOLDEN / name
    if REGENERATE:
        GOLDEN.mkdir(exist_ok=True)
        path.write_bytes(data)
    assert path.exists(), f"{path} is missing; regenerate with WAVECAST_REGENERATE_GOLDEN=1"
    assert data == path.read_bytes(), f"{name} differs from {path}; if the change is meant, regenerate and review"
