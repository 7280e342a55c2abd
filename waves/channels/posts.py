"""What every social platform shares: a post is one ledger row per wave x audience x language x
platform account, rendered once, sent as JSON through the outbox feed or the signed webhook.

A platform module (x.py, linkedin.py, ...) is one line naming its PostChannel; a platform that
publishes directly (Bluesky, Mastodon) gives its own messenger instead.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from campaign.bundle import Bundle
from campaign.channel_ids import LIMITS, ChannelId, ChannelLimits
from campaign.settings import Settings
from campaign.social import SocialPost
from waves.channels.contract import Messenger, Outgoing, RunContext
from waves.channels.outbox import OutboxMessenger
from waves.channels.webhook import WebhookMessenger
from waves.ledger import Claimed
from waves.outputs import post_for

DEFAULT_ACCOUNT = "default"


def account_for(bundle: Bundle, platform: str, lang: str) -> str:
    """The account that publishes the platform's posts in LANG: the campaign's choice, else 'default'.

    The name goes on the post's ledger row; the secret stays in the settings."""
    config = bundle.spec.channels.get(platform)
    return config.accounts.get(lang, DEFAULT_ACCOUNT) if config is not None else DEFAULT_ACCOUNT


def post_key(run_id: int, audience_id: str, language: str, platform: str, content_hash: str) -> str:
    """The post's idempotency key, also its ledger message_id: the same on every retry."""
    raw = f"{run_id}:{audience_id}:{language}:{platform}:{content_hash}"
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


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


@dataclass(frozen=True)
class PostChannel:
    id: ChannelId

    @property
    def limits(self) -> ChannelLimits:
        return LIMITS[self.id]

    def build(self, run: RunContext, row: Claimed) -> Outgoing:
        post = post_for(run.bundle, run.wave_id, row.audience_id, row.language, self.id)
        body = json.dumps(payload(run, post, row.account or DEFAULT_ACCOUNT), ensure_ascii=False, sort_keys=True)
        return Outgoing(key=row.message_id, recipient=self.id, body=body.encode())

    def messenger(self, settings: Settings) -> Messenger:
        if settings.social_webhook_url:
            secret = settings.social_webhook_secret or settings.secret_key
            return WebhookMessenger(settings.social_webhook_url, secret)
        return OutboxMessenger(settings.outbox_dir / "social" / "published")
