"""The channels, registered in one table. The send loop looks a row's channel up here and knows
nothing else about it. A channel declared whole in `campaign/channels/` (its sender included)
is registered here without a line; the newsletter and the social platforms, whose messengers
need the send side's parts (SMTP, the post quota, the platforms' clients), are listed below.
"""

from __future__ import annotations

from campaign.channel_ids import channels, declarations
from campaign.errors import WavecastError
from waves.channels import bluesky, facebook, instagram, linkedin, mastodon, newsletter, x
from waves.channels.contract import Channel
from waves.channels.declared import declared_channels

_LISTED: dict[str, Channel] = {
    module.CHANNEL.id: module.CHANNEL for module in (newsletter, x, linkedin, facebook, instagram, mastodon, bluesky)
}
_DECLARED: dict[str, Channel] = {c.id: c for c in declared_channels(declarations())}
# In the table's order: every channel the campaign model accepts can be sent, nothing else.
REGISTRY: dict[str, Channel] = {c: ({**_LISTED, **_DECLARED})[c] for c in channels() if c in _LISTED or c in _DECLARED}

if list(REGISTRY) != list(channels()) or set(_LISTED) & set(_DECLARED):
    raise RuntimeError("campaign/channels/ and waves/channels/ name different channels")


def channel(channel_id: str) -> Channel:
    found = REGISTRY.get(channel_id)
    if found is None:
        raise WavecastError(f"no channel {channel_id!r}; wavecast sends on {', '.join(REGISTRY)}")
    return found
