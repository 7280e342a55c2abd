"""The rendered outputs a sending process needs, rendered once per segment and kept."""

from __future__ import annotations

from typing import Any

from campaign.bundle import Bundle

_segments: dict[tuple[int, str, str, str, str], tuple[Bundle, Any]] = {}


def segment_for(bundle: Bundle, wave_id: str, audience_id: str, lang: str, channel: str) -> Any:
    """The per-segment output (wave × audience × language × channel), rendered once per process."""
    from campaign.render import render_segment

    key = (id(bundle), wave_id, audience_id, lang, channel)
    cached = _segments.get(key)
    if cached is None or cached[0] is not bundle:
        cached = _segments[key] = (bundle, render_segment(bundle, wave_id, audience_id, lang, channel))
    return cached[1]


def newsletter_for(bundle: Bundle, wave_id: str, audience_id: str, lang: str) -> Any:
    return segment_for(bundle, wave_id, audience_id, lang, "newsletter")


def newsletter_message_id(campaign_id: str, wave_id: str, contact_id: int, domain: str) -> str:
    """Deterministic: a resend of the same message carries the same Message-ID."""
    from campaign.mime import message_id

    return message_id(campaign_id, wave_id, contact_id, "newsletter", domain)
