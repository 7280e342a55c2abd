"""The channels, registered in one table. The send loop looks a row's channel up here and knows
nothing else about it; adding a channel is one module here and one line in REGISTRY (its id
and limits are one line in campaign/channel_ids.py).
"""

from __future__ import annotations

from campaign.channel_ids import CHANNELS
from campaign.errors import WavecastError
from waves.channels import bluesky, facebook, instagram, linkedin, mastodon, newsletter, sms, x
from waves.channels.contract import Channel

REGISTRY: dict[str, Channel] = {
    module.CHANNEL.id: module.CHANNEL
    for module in (newsletter, x, linkedin, facebook, instagram, mastodon, bluesky, sms)
}

# Every channel the campaign model accepts can be sent, and nothing else is registered.
if set(REGISTRY) != set(CHANNELS):
    raise RuntimeError("campaign/channel_ids.py and waves/channels/ name different channels")


def channel(channel_id: str) -> Channel:
    found = REGISTRY.get(channel_id)
    if found is None:
        raise WavecastError(f"no channel {channel_id!r}; wavecast sends on {', '.join(REGISTRY)}")
    return found
