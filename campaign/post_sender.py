"""What every post shares on its way out: a post is one ledger row per wave x audience x language
x platform account, rendered once (campaign/social.py) and sent as JSON through the outbox feed
(campaign/outbox_feed.py) or, when WAVECAST_SOCIAL_WEBHOOK_URL is set, the signed webhook
(campaign/post_webhook.py). That is the whole sender of the networks without an open API (X,
LinkedIn, Facebook, Instagram); Bluesky and Mastodon publish directly once an account is set
(campaign/direct_posts.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from campaign.channel_contract import Messenger, Outgoing, Recipient, RunContext
from campaign.errors import WavecastError
from campaign.outbox_feed import OutboxMessenger
from campaign.post_webhook import WebhookMessenger
from campaign.settings import Settings
from campaign.social import SocialPost

DEFAULT_ACCOUNT = "default"


def payload(run: RunContext, post: SocialPost, account: str) -> dict[str, object]:
    """The post as JSON. The image travels with every post; Instagram refuses a post without one."""
    return {
        "run": run.run_id,
        "account": account,
        "campaign": run.campaign_id,
        "wave": run.wave_id,
        "audience": post.key.audience,
        "language": post.key.lang,
        "platform": post.platform,
        "text": post.text,
        "link": post.link,
        "image": None if post.image_url is None else {"url": post.image_url, "alt": post.image_alt},
        "alt_text": post.image_alt,
        "scheduled_at": post.scheduled_at.isoformat(),
        "content_hash": post.content_hash,
    }


def social_post(segment: object) -> SocialPost:
    """The segment's cached post; anything else is a fault of this row's segment only."""
    if not isinstance(segment, SocialPost):
        raise WavecastError(f"segment {'/'.join(getattr(segment, 'key', ()))} did not render as a post")
    return segment


@dataclass(frozen=True)
class PostSender:
    """The post as JSON, to the outbox feed or the signed webhook. `to.address` is the account."""

    def build(self, segment: object, to: Recipient) -> Outgoing:
        post = social_post(segment)
        body = json.dumps(payload(to.run, post, to.address or DEFAULT_ACCOUNT), ensure_ascii=False, sort_keys=True)
        return Outgoing(key=to.key, recipient=post.platform, body=body.encode())

    def messenger(self, config: object, settings: Settings) -> Messenger:
        return feed_or_webhook(settings)


def feed_or_webhook(settings: Settings) -> Messenger:
    if settings.social_webhook_url:
        secret = settings.social_webhook_secret or settings.secret_key
        return WebhookMessenger(settings.social_webhook_url, secret)
    return OutboxMessenger(settings.outbox_dir / "social" / "published")
