"""The push channel, declared whole: one notification per person on their phone, through a
push service's plain HTTP API, or as files in the outbox.

The notification is the campaign's name as its title, the message file's `subject` as its text
(it may name the contact's first name) and the message's link, UTM-tagged like every other
channel's. It is rendered once per segment; each person costs the fill of their name. What a
lock screen shows is short: title and text together may take 178 characters, tightened per
campaign by `channels: {push: {limit: ...}}`.

The address is the contact's custom attribute `push_token` (an extra column of the contacts
CSV): the device token the campaign's app registered, checked at import and before each
message. A contact without one keeps its row, skipped with the reason.

The service (`WAVECAST_PUSH_API_URL`, its token in `WAVECAST_PUSH_API_TOKEN`) receives a JSON
POST `{"to", "title", "text", "url", "reference"}` with the delivery key as `Idempotency-Key`
(campaign/json_messengers.py); unset, each notification is `OUTBOX_DIR/push/run-<run>/<row>.json`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from campaign.channel_contract import Messenger, Outgoing, Recipient, RenderRequest
from campaign.channel_ids import Address, ChannelDeclaration, ChannelLimits, InvalidAddress, Reach
from campaign.errors import Problem, WavecastError
from campaign.json_messengers import JsonFileMessenger, JsonPostMessenger
from campaign.mime import Parts
from campaign.newsletter import sample_fields
from campaign.render import PERSONAL_FIELDS, personal_values
from campaign.segment_key import SegmentKey
from campaign.settings import ChannelEnv, HttpEndpoint, Settings
from campaign.short_text import short_text
from campaign.template_context import translated

LIMITS = ChannelLimits("push", Reach.PERSON, 178, length_rule="characters of title and text")
_TOKEN = re.compile(r"[A-Za-z0-9_:.\-]{16,512}")


def check_token(value: str) -> str:
    """A device token: 16 to 512 letters, digits and `_:.-`, as push services issue them."""
    token = value.strip()
    if not _TOKEN.fullmatch(token):
        raise InvalidAddress("is not a device token: 16 to 512 letters, digits, '_', ':', '.' or '-'")
    return token


@dataclass(frozen=True, eq=False)
class PushSegment:
    """One segment's notification, rendered once; `personalise` fills in one person's name."""

    key: SegmentKey
    message: str
    file: str
    line: int
    content_hash: str
    title: str
    parts: Parts  # the text, cut at the personal slots
    link: str
    fallbacks: tuple[str, ...]
    sample: Mapping[str, str]
    limit: int
    scheduled_at: dt.datetime
    images: tuple[str, ...] = ()
    problems: tuple[Problem, ...] = ()
    hashtag_limit: int | None = None  # a notification carries no hashtags and no image
    image_url: str | None = None
    image_alt: str | None = None
    hashtag_count: int = 0
    rule: str = LIMITS.length_rule

    @property
    def platform(self) -> str:  # the preview pages show a notification beside the posts
        return self.key.channel

    def personalise(self, fields: Mapping[str, str]) -> str:
        return self.parts.fill(personal_values(fields, self.fallbacks))

    @property
    def text(self) -> str:
        """The notification's text as the audience's sample contact gets it."""
        return self.personalise(self.sample)

    @property
    def length(self) -> int:
        return len(self.title) + len(self.text)

    @property
    def over_limit(self) -> bool:
        return self.length > self.limit

    def as_json(self) -> dict[str, Any]:
        key = self.key
        return {"channel": key.channel, "wave": key.wave, "audience": key.audience, "lang": key.lang} | {
            "message": self.message,
            "title": self.title,
            "text": self.text,
            "url": self.link,
            "length": self.length,
            "limit": self.limit,
            "content_hash": self.content_hash,
        }


def build_push(request: RenderRequest) -> PushSegment:
    """Render one segment's notification; raises RenderFailed naming file and line."""
    bundle, key = request.bundle, request.key
    nonce = hashlib.sha256(b"push" + request.content_hash.encode()).hexdigest()[:12]
    tokens = tuple(f"Wc{nonce}F{i}x" for i in range(len(PERSONAL_FIELDS)))
    text = short_text(request, dict(zip(PERSONAL_FIELDS, tokens, strict=True)), "push")
    where = text.where
    config = bundle.spec.channels.get(key.channel)
    push = PushSegment(
        key=key,
        message=request.message.id,
        file=text.file,
        line=text.line,
        content_hash=request.content_hash,
        title=translated(bundle.spec, bundle.spec.campaign.name, key.lang),
        parts=Parts.split(text.subject, tokens),
        link=text.link,
        fallbacks=text.fallbacks,
        sample=sample_fields(bundle, key.audience, key.lang),
        limit=(config.limit if config is not None else None) or LIMITS.limit or 0,
        scheduled_at=request.start + dt.timedelta(minutes=config.stagger_minutes if config is not None else 0),
    )
    if push.over_limit:
        problem = where.problem(
            1,
            f"the push notification (title and text) takes {push.length} characters for the sample contact, "
            f"over the limit of {push.limit} (wave {key.wave}, audience {key.audience}): shorten the subject",
        )
        object.__setattr__(push, "problems", (problem,))
    return push


class PushSender:
    def build(self, segment: object, to: Recipient) -> Outgoing:
        if not isinstance(segment, PushSegment):
            raise WavecastError(f"segment {'/'.join(getattr(segment, 'key', ()))} did not render as a notification")
        body = {"to": to.address, "title": segment.title, "text": segment.personalise(to.fields), "url": segment.link}
        data = json.dumps(body | {"reference": to.key}, ensure_ascii=False, sort_keys=True)
        return Outgoing(key=to.key, recipient=to.address, body=data.encode())

    def messenger(self, config: object, settings: Settings) -> Messenger:
        if isinstance(config, HttpEndpoint):
            return JsonPostMessenger(config, "push service")
        return JsonFileMessenger(settings.outbox_dir / "push", "push")


def _settings(env: ChannelEnv) -> HttpEndpoint | None:
    return env.endpoint("API_URL", "API_TOKEN")


CHANNEL = ChannelDeclaration(
    LIMITS,
    build_push,
    units=("notification", "notifications"),
    address=Address("push_token", "device token", check_token, "dev_4f1c2a9be07d5c3a1b88"),
    settings=_settings,
    sender=PushSender(),
)
