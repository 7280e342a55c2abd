"""What Bluesky and Mastodon share: a post published straight to the platform, through the account
the settings name for its language, with its banner image uploaded and its alt text.

Without an account in the settings the platform stays on the outbox feed or the signed webhook,
like the networks without an open API: the embedded default is also the dry run. The post is
rendered once per segment like every post; only the image file is read per row, from the
approved campaign directory, so what goes out is what was approved (its digest is part of the
content hash).
"""

from __future__ import annotations

import datetime as dt
import json
import mimetypes
from collections.abc import Callable
from dataclasses import dataclass, field

from campaign.channel_contract import (
    Attachment,
    Memo,
    Messenger,
    NoMemo,
    Outgoing,
    PermanentError,
    Recipient,
    RunContext,
    TransientError,
    account_scope,
)
from campaign.channel_ids import ChannelId
from campaign.errors import WavecastError
from campaign.post_sender import DEFAULT_ACCOUNT, feed_or_webhook, payload, social_post
from campaign.segment import Assets
from campaign.settings import PREFIX, Settings
from campaign.social import SocialPost
from campaign.social_accounts import Accounts, SocialAccount
from campaign.template_context import translated

# A platform's own messenger, made from its accounts by name and the installation's settings.
Publisher = Callable[[Accounts, Settings], Messenger]


@dataclass(frozen=True)
class DirectPost:
    """A post as a direct publisher reads it back from its Outgoing message."""

    key: str  # the ledger key: Mastodon's Idempotency-Key, the seed of Bluesky's record key
    account: str
    text: str
    link: str
    language: str
    title: str  # the campaign's name in the post's language: a link card's title
    visibility: str
    scheduled_at: dt.datetime
    image: Attachment | None
    memo: Memo = field(default_factory=NoMemo)  # the row's note: an upload an earlier try made

    @classmethod
    def of(cls, message: Outgoing) -> DirectPost:
        data = json.loads(message.body)
        return cls(
            key=message.key,
            account=data["account"],
            text=data["text"],
            link=data["link"],
            language=data["language"],
            title=data["title"],
            visibility=data["visibility"],
            scheduled_at=dt.datetime.fromisoformat(data["scheduled_at"]),
            image=message.attachments[0] if message.attachments else None,
            memo=message.memo,
        )


def account_named(accounts: Accounts, platform: str, name: str) -> SocialAccount:
    """The account a row names; a name the settings lack fails the row and says where to add it."""
    found = accounts.get(name)
    if found is None:
        variable = f"{PREFIX}{platform.upper()}_ACCOUNTS"
        raise PermanentError(
            f"no {platform} account named {name!r} in {variable} (it has {', '.join(sorted(accounts))}); "
            f"the campaign's channels.{platform}.accounts names the account per language, 'default' otherwise"
        )
    return found


def _image(run: RunContext, post: SocialPost) -> tuple[Attachment, ...]:
    """The banner as an upload, when it is a campaign file; an image on the web stays a link."""
    if not post.images:
        return ()
    src = post.images[0]
    data = Assets.at(run.bundle.root, run.campaign_id, "").read(src)
    if data is None:
        raise WavecastError(f"image {src!r} of the post cannot be read from the campaign directory")
    mime_type = mimetypes.guess_type(src)[0] or "application/octet-stream"
    return (Attachment(data, mime_type, post.image_alt or ""),)


class AccountScoped:
    """A publisher whose transient failures hold back only the rows of the account that met them.

    A 429, a spent quota or an unreachable server belongs to one account (one server, one
    quota), so the loop defers that account's posts and goes on with the chunk's e-mails and
    the other accounts' posts instead of making them all wait, up to an hour for a quota."""

    def __init__(self, channel_id: ChannelId, inner: Messenger) -> None:
        self.channel_id = channel_id
        self.inner = inner

    def push(self, message: Outgoing) -> None:
        try:
            self.inner.push(message)
        except TransientError as exc:
            if exc.scope is not None:
                raise
            scope = account_scope(self.channel_id, DirectPost.of(message).account)
            raise TransientError(str(exc), exc.retry_after, scope=scope) from None

    def flush(self) -> None:
        self.inner.flush()

    def close(self) -> None:
        self.inner.close()


@dataclass(frozen=True)
class DirectPostSender:
    """A platform with an open API: its own messenger once an account is configured (`config`
    is the platform's accounts, WAVECAST_<PLATFORM>_ACCOUNTS), else the feed or the webhook."""

    platform: ChannelId
    publisher: Publisher

    def build(self, segment: object, to: Recipient) -> Outgoing:
        post = social_post(segment)
        spec = to.run.bundle.spec
        config = spec.channels.get(self.platform)
        fields = {
            **payload(to.run, post, to.address or DEFAULT_ACCOUNT),
            "title": translated(spec, spec.campaign.name, post.key.lang),
            "visibility": config.visibility if config is not None else "public",
        }
        body = json.dumps(fields, ensure_ascii=False, sort_keys=True).encode()
        return Outgoing(to.key, self.platform, body, attachments=_image(to.run, post), memo=to.memo)

    def messenger(self, config: object, settings: Settings) -> Messenger:
        accounts: Accounts = config if isinstance(config, dict) else {}
        if not accounts:
            return feed_or_webhook(settings)
        return AccountScoped(self.platform, self.publisher(accounts, settings))
