"""The networks without an open API wavecast can post to: X, LinkedIn, Facebook and Instagram.
One post per wave x audience x language x platform account, rendered once (campaign/social.py),
and sent as JSON to the outbox feed, or to the signed webhook when WAVECAST_SOCIAL_WEBHOOK_URL is
set, for a team's own tool to publish (campaign/post_sender.py). Instagram posts carry their
image (the payload's `image`), as the platform requires.
"""

from __future__ import annotations

from campaign.channel_ids import ChannelDeclaration, ChannelLimits, Reach
from campaign.post_sender import PostSender
from campaign.social import build_social

_LIMITS = (
    ChannelLimits("x", Reach.POST, 280, length_rule="weighted, links count 23", weighted=True, links_count=23),
    ChannelLimits("linkedin", Reach.POST, 3000),
    ChannelLimits("facebook", Reach.POST, 63206),
    ChannelLimits("instagram", Reach.POST, 2200, max_hashtags=30),
)
PLATFORMS = tuple(
    ChannelDeclaration(limits, build_social, units=("post", "posts"), sender=PostSender()) for limits in _LIMITS
)
