"""The channels as the send loop sees them: every channel declared in campaign/channels/, its
sender included, with the loop's half of the work written once (waves/channels/declared.py).
The loop looks a row's channel up here and knows nothing else about it.
"""

from __future__ import annotations

from campaign.channel_ids import declarations
from campaign.errors import WavecastError
from waves.channels.contract import Channel
from waves.channels.declared import DeclaredChannel

REGISTRY: dict[str, Channel] = {d.id: DeclaredChannel(d) for d in declarations()}


def channel(channel_id: str) -> Channel:
    found = REGISTRY.get(channel_id)
    if found is None:
        raise WavecastError(f"no channel {channel_id!r}; wavecast sends on {', '.join(REGISTRY)}")
    return found
