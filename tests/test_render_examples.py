"""Every combination of every shipped campaign renders, and every output keeps the rules."""

from __future__ import annotations

import re
from email import message_from_bytes, policy
from pathlib import Path

import pytest

from campaign.bundle import load_bundle
from campaign.mime import message_id
from campaign.newsletter import NewsletterSegment
from campaign.segment import render_matrix, segment_keys
from campaign.social import SocialPost, post_length
from tests.campaign_copy import MINIMAL
from tests.conftest import EXAMPLES, reset_caches

CAMPAIGNS = [*sorted(p.parent for p in EXAMPLES.glob("*/campaign.yaml")), MINIMAL]


@pytest.fixture(autouse=True)
def _https_base(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WAVECAST_BASE_URL", "https://wavecast.example.org")
    reset_caches()


@pytest.mark.parametrize("directory", CAMPAIGNS, ids=[p.name for p in CAMPAIGNS])
def test_every_combination_renders_within_the_rules(directory: Path) -> None:
    bundle = load_bundle(directory)
    matrix = render_matrix(bundle)
    assert matrix.problems == []
    assert set(matrix.outputs) == set(segment_keys(bundle.spec))
    domain = bundle.spec.campaign.sender.address.rpartition("@")[2]
    for key, output in matrix.outputs.items():
        assert re.fullmatch(r"[0-9a-f]{64}", output.content_hash), key
        if isinstance(output, NewsletterSegment):
            raw = output.personalise(
                f"test@{domain}",
                output.sample,
                "https://wavecast.example.org/u/token",
                message_id(bundle.spec.campaign.id, key.wave, 1, "newsletter", domain),
            )
            msg = message_from_bytes(raw, policy=policy.default)
            assert msg["List-Unsubscribe"].startswith("<https://wavecast.example.org/u/token>, <mailto:"), key
            assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click", key
            assert msg["Content-Language"] == key.lang, key
            text = msg.get_body(("plain",))
            assert text is not None and text.get_content().strip(), key
            html = msg.get_body(("html",))
            assert html is not None and f'<html lang="{key.lang}"' in html.get_content(), key
            assert all(re.search(r'alt="[^"]+"', tag) for tag in re.findall(r"<img[^>]*>", output.html)), key
        else:
            assert isinstance(output, SocialPost)
            assert output.length <= output.limit, key
            if key.channel == "x":
                assert post_length("x", output.text) <= 280, key
            assert key.slug in output.link and "utm_source=" + key.channel in output.link, key
