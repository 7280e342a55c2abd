"""The Mastodon channel: one status per wave x audience x language x account, published through
the account's server (campaign/mastodon_api.py) once its accounts are set, else to the outbox
feed or the signed webhook like the networks without an open API.

- Its own setting: WAVECAST_MASTODON_ACCOUNTS, `NAME=https://:ACCESS-TOKEN@SERVER, ...`
  (campaign/social_accounts.py); the campaign's `channels.mastodon.accounts` names one per
  language, 'default' otherwise, and `channels.mastodon.visibility` each status's visibility.
- Its length rule: 500 characters, every link counting 23.
- A status carries its banner (uploaded once with its alt text, the media id kept on the ledger
  row so a retry attaches the same upload), the post's language, and the ledger key as its
  `Idempotency-Key`: Mastodon answers a repeated request with the first status and makes none.
- A 429 waits as long as the server says (Retry-After, or X-RateLimit-Reset).
"""

from __future__ import annotations

from campaign.channel_contract import Messenger, Outgoing
from campaign.channel_ids import ChannelDeclaration, ChannelLimits, Reach
from campaign.direct_posts import DirectPost, DirectPostSender, account_named
from campaign.settings import Settings
from campaign.social import build_social
from campaign.social_accounts import Accounts, accounts_setting

ID = "mastodon"


class MastodonMessenger:
    """Statuses of every account of the chunk, one API client per account."""

    def __init__(self, accounts: Accounts, _settings: Settings) -> None:
        # Mastodon.py takes a tenth of a second to import: it is loaded when a status is
        # published, not by every command that only validates, plans or previews.
        from campaign import mastodon_api

        self.api = mastodon_api
        self.accounts = accounts
        self.clients: dict[str, mastodon_api.MastodonClient] = {}

    def push(self, message: Outgoing) -> None:
        post = DirectPost.of(message)
        account = account_named(self.accounts, ID, post.account)
        client = self.clients.get(account.name) or self.clients.setdefault(
            account.name, self.api.MastodonClient(account)
        )
        self.api.publish(client, post)

    def flush(self) -> None:
        return None  # every status is published by the time push returns

    def close(self) -> None:
        for client in self.clients.values():
            client.close()
        self.clients.clear()


def _publisher(accounts: Accounts, settings: Settings) -> Messenger:
    return MastodonMessenger(accounts, settings)


CHANNEL = ChannelDeclaration(
    ChannelLimits(ID, Reach.POST, 500, length_rule="links count 23", links_count=23),
    build_social,
    units=("post", "posts"),
    settings=accounts_setting(user_required=False),
    sender=DirectPostSender(ID, _publisher),
)
