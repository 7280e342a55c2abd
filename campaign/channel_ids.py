"""The channels wavecast sends on, written once: their ids, what one ledger row of each stands
for, and their static limits.

This is the bottom layer's half of a channel. The campaign model, its JSON Schema, rendering,
preview, status and the report read the list from here; each channel's messenger (how a
message leaves) lives in `waves/channels/`, one module per channel, registered in one table.
Adding a channel is one line here and one module there, plus its tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal, get_args

# The one list. A Literal, so the campaign model and its JSON Schema name every allowed value.
ChannelId = Literal["newsletter", "x", "linkedin", "facebook", "instagram", "mastodon", "bluesky", "sms"]


class Reach(StrEnum):
    """What one ledger row of a channel stands for."""

    PERSON = "person"  # one message per contact: consent is re-checked before each one
    POST = "post"  # one post per wave x audience x language x platform account: no person, no consent


@dataclass(frozen=True)
class ChannelLimits:
    """A channel's static rules; a campaign may tighten `limit` and `max_hashtags` per channel."""

    id: ChannelId
    reach: Reach
    limit: int | None = None  # characters as the platform counts them; None: no text limit
    max_hashtags: int | None = None
    length_rule: str = "characters"  # how the platform counts, in words
    weighted: bool = False  # X's weighted count (twitter-text)
    links_count: int | None = None  # every link counts this many characters, however long


LIMITS: dict[ChannelId, ChannelLimits] = {
    "newsletter": ChannelLimits("newsletter", Reach.PERSON),
    "x": ChannelLimits("x", Reach.POST, 280, length_rule="weighted, links count 23", weighted=True, links_count=23),
    "linkedin": ChannelLimits("linkedin", Reach.POST, 3000),
    "facebook": ChannelLimits("facebook", Reach.POST, 63206),
    "instagram": ChannelLimits("instagram", Reach.POST, 2200, max_hashtags=30),
    "mastodon": ChannelLimits("mastodon", Reach.POST, 500, length_rule="links count 23", links_count=23),
    # Bluesky counts 300 graphemes; wavecast counts code points, never fewer, so a post that
    # passes here passes there (and stays under the lexicon's 3000 bytes).
    "bluesky": ChannelLimits("bluesky", Reach.POST, 300),
    # 3 concatenated GSM-7 segments of 153; campaign/sms.py counts segments as phones do.
    "sms": ChannelLimits(
        "sms", Reach.PERSON, 3 * 153, length_rule="SMS segments: GSM-7 160 alone, 153 each of 3; UCS-2 70 / 67"
    ),
}

CHANNELS: tuple[ChannelId, ...] = get_args(ChannelId)
PLATFORMS: tuple[ChannelId, ...] = tuple(c for c in CHANNELS if LIMITS[c].reach is Reach.POST)
PERSON_CHANNELS: tuple[ChannelId, ...] = tuple(c for c in CHANNELS if LIMITS[c].reach is Reach.PERSON)
NEWSLETTER: ChannelId = "newsletter"
SMS: ChannelId = "sms"


def is_post(channel: str) -> bool:
    """True for a channel whose rows are posts (no person behind them)."""
    found = LIMITS.get(channel)  # type: ignore[call-overload]  # any text may be asked about
    return found is not None and found.reach is Reach.POST
