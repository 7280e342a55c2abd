"""The Bluesky channel: one post per wave x audience x language x account, published to the
account's repository through the AT Protocol (campaign/bluesky_api.py) once its accounts are
set, else to the outbox feed or the signed webhook like the networks without an open API.

- Its own setting: WAVECAST_BLUESKY_ACCOUNTS, `NAME=https://HANDLE:APP-PASSWORD@PDS, ...`
  (campaign/social_accounts.py); the campaign's `channels.bluesky.accounts` names one per
  language, 'default' otherwise.
- Its length rule: 300 graphemes (a flag or a family emoji is one) and 3,000 UTF-8 bytes, as
  the app.bsky.feed.post lexicon counts.
- Its quota: a PDS counts points per account, 3 per created record, 5,000 an hour and 35,000 a
  day (docs.bsky.app, "Rate Limits"); every worker spends from one counter (campaign/post_quota.py),
  and a post that would overdraw it waits for the window to end instead of meeting a 429.
"""

from __future__ import annotations

from campaign.channel_contract import Messenger, Outgoing
from campaign.channel_ids import ChannelDeclaration, ChannelLimits, Reach
from campaign.direct_posts import DirectPost, DirectPostSender, account_named
from campaign.post_quota import LocalQuota, Quota, RedisQuota, Window
from campaign.settings import Settings
from campaign.social import build_social
from campaign.social_accounts import Accounts, accounts_setting

ID = "bluesky"
WINDOWS = (Window(3600, 5000), Window(86400, 35000))
CREATE_POINTS = 3


class BlueskyMessenger:
    """Posts of every account of the chunk; logins are kept for the process (bluesky_api)."""

    def __init__(self, accounts: Accounts, settings: Settings) -> None:
        # The AT Protocol client takes half a second to import: it is loaded when a post is
        # published, not by every command that only validates, plans or previews.
        from campaign import bluesky_api

        self.publish = bluesky_api.publish
        self.accounts = accounts
        self.quota: Quota = (
            RedisQuota(settings.broker_url, settings.redis_prefix, ID, WINDOWS)
            if settings.broker_url
            else LocalQuota(ID, WINDOWS)
        )

    def push(self, message: Outgoing) -> None:
        post = DirectPost.of(message)
        account = account_named(self.accounts, ID, post.account)
        self.quota.take(account.name, CREATE_POINTS)
        self.publish(account, post)

    def flush(self) -> None:
        return None  # every post is written by the time push returns

    def close(self) -> None:
        return None  # the logged-in clients are kept for the process


def _publisher(accounts: Accounts, settings: Settings) -> Messenger:
    return BlueskyMessenger(accounts, settings)


CHANNEL = ChannelDeclaration(
    ChannelLimits(ID, Reach.POST, 300, length_rule="graphemes", graphemes=True, max_bytes=3000),
    build_social,
    units=("post", "posts"),
    settings=accounts_setting(user_required=True),
    sender=DirectPostSender(ID, _publisher),
)
