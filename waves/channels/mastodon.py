"""Mastodon: a post channel whose messenger publishes to the platform directly once an account is
configured (``waves/channels/mastodon_client.py``), else to the outbox feed or the signed webhook.

The messenger's module, and Mastodon.py with it, is imported when a post is published: every command
that only validates, plans or previews starts without it.
"""

from __future__ import annotations

from campaign.settings import Settings, SocialAccount
from waves.channels.contract import Messenger
from waves.channels.direct import direct_channel


def _messenger(settings: Settings, accounts: dict[str, SocialAccount]) -> Messenger:
    from waves.channels.mastodon_client import MastodonMessenger

    return MastodonMessenger(settings, accounts)


CHANNEL = direct_channel("mastodon", _messenger)
