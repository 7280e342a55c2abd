"""The channels, one module each, listed once. Importing `campaign` installs this list in the
table every generic part reads (campaign/channel_ids.py).

Adding a channel is one module here, declaring its id, reach, limits, the contact field it
addresses, its rendering, its own settings and its sender (build and messenger), plus its tests,
and its line below.
"""

from __future__ import annotations

from campaign.channel_ids import ChannelDeclaration, install
from campaign.channels import bluesky, mastodon, newsletter, push, sms, social

REGISTRY: dict[str, ChannelDeclaration] = {
    declared.id: declared
    for declared in (
        newsletter.CHANNEL,
        *social.PLATFORMS,
        mastodon.CHANNEL,
        bluesky.CHANNEL,
        sms.CHANNEL,
        push.CHANNEL,
    )
}
install(REGISTRY)
