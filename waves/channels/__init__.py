"""The channels as the send loop sees them: every channel declared in campaign/channels/, its
sender included, with the loop's half of the work written once (waves/channels/declared.py).
The loop looks a row's channel up here and knows nothing else about it.
"""

from __future__ import annotations

from campaign.channel_ids import declarations
from campaign.errors import WavecastError
from waves.channels.contract import Channel
from waves.channels.declared import declared_channels

REGISTRY: dict[str, Channel] = {c.id: c for c in declared_channels(declarations())}


def channel(channel_id: str) -> Channel:
    found = REGISTRY.get(channel_id)
    if found is None:
        raise WavecastError(f"no channel {channel_id!r}; wavecast sends on {', '.join(REGISTRY)}")
    return found
