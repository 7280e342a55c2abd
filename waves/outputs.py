"""The rendered outputs a sending process needs, rendered once per segment and kept, typed.

A worker renders each segment (wave x audience x language x channel) once and personalises it
per row; these functions hand the channel modules the concrete output type, never `Any`.
"""

from __future__ import annotations

from campaign.bundle import Bundle
from campaign.channel_ids import NEWSLETTER
from campaign.errors import WavecastError
from campaign.newsletter import NewsletterSegment
from campaign.segment import Output, render_segment
from campaign.social import SocialPost

_segments: dict[tuple[int, str, str, str, str], tuple[Bundle, Output]] = {}


def segment_for(bundle: Bundle, wave_id: str, audience_id: str, lang: str, channel: str) -> Output:
    """The per-segment output (wave x audience x language x channel), rendered once per process."""
    key = (id(bundle), wave_id, audience_id, lang, channel)
    cached = _segments.get(key)
    if cached is None or cached[0] is not bundle:
        cached = _segments[key] = (bundle, render_segment(bundle, wave_id, audience_id, lang, channel))
    return cached[1]


def newsletter_for(bundle: Bundle, wave_id: str, audience_id: str, lang: str) -> NewsletterSegment:
    found = segment_for(bundle, wave_id, audience_id, lang, NEWSLETTER)
    if not isinstance(found, NewsletterSegment):
        raise WavecastError(f"segment {wave_id}/{audience_id}/{lang} did not render as a newsletter")
    return found


def post_for(bundle: Bundle, wave_id: str, audience_id: str, lang: str, platform: str) -> SocialPost:
    found = segment_for(bundle, wave_id, audience_id, lang, platform)
    if not isinstance(found, SocialPost):
        raise WavecastError(f"segment {wave_id}/{audience_id}/{lang}/{platform} did not render as a post")
    return found
