"""The social platforms: one post per wave x audience x language x platform account.

Their rendering is campaign/social.py; their messengers (the outbox feed, the signed webhook,
Bluesky's and Mastodon's APIs) are on the send side, in waves/channels/.
"""

from __future__ import annotations

from campaign.channel_ids import ChannelDeclaration, ChannelLimits, Reach
from campaign.social import build_social

_LIMITS = (
    ChannelLimits("x", Reach.POST, 280, length_rule="weighted, links count 23", weighted=True, links_count=23),
    ChannelLimits("linkedin", Reach.POST, 3000),
    ChannelLimits("facebook", Reach.POST, 63206),
    ChannelLimits("instagram", Reach.POST, 2200, max_hashtags=30),
    ChannelLimits("mastodon", Reach.POST, 500, length_rule="links count 23", links_count=23),
    # app.bsky.feed.post: text of at most 300 graphemes (as Bluesky counts: a flag or a family
    # emoji is one) and 3000 UTF-8 bytes.
    ChannelLimits("bluesky", Reach.POST, 300, length_rule="graphemes", graphemes=True, max_bytes=3000),
)
PLATFORMS = tuple(ChannelDeclaration(limits, build_social, units=("post", "posts")) for limits in _LIMITS)
