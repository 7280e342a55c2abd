"""The SMS channel, declared whole: one text message per person, through a plain HTTP gateway,
or as files in the outbox.

Rendering: a short form of the message, rendered once per segment, and how phones count it.

The text is the message file's `subject` (it may name the contact's first name), the message's
link (its `cta`, else the campaign's website in the language, UTM-tagged like every other
channel), and an unsubscribe link. No new front matter: a message sent on `sms` needs nothing
more than a newsletter does. When the subject names no personal field, the SMS opens with the
recipient's first name ("Ana, ...").

Length is counted as phones and gateways count it: GSM-7 (160 septets in a single segment,
153 in each of a concatenated message's segments; `^{}[]~|\\€` take two septets), or UCS-2 as
soon as one character is outside GSM-7 (70 / 67 UTF-16 units). The channel's limit
(3 x 153 GSM-7 characters, below, tightened per campaign by
`channels: {sms: {limit: ...}}`) fixes the number of segments a message may take: 3 by default.
Validation measures the sample contact's SMS; the sender measures each recipient's again, since
a name outside GSM-7 can triple the count.

The address: the contact's custom attribute `phone` (an extra column of the contacts CSV),
an E.164 number, checked at import and again before each message. A contact without one keeps
its ledger row, skipped with the reason. Consent is re-checked before each message, as for
e-mail.

The gateway (`WAVECAST_SMS_GATEWAY_URL`, its token in `WAVECAST_SMS_GATEWAY_TOKEN`) receives a
JSON POST `{"to", "text", "reference"}` with the delivery key as `Idempotency-Key`
(campaign/json_messengers.py); unset, each SMS is `OUTBOX_DIR/sms/run-<run>/<row>.json`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
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

LIMITS = ChannelLimits(
    "sms", Reach.PERSON, 3 * 153, length_rule="SMS segments: GSM-7 160 alone, 153 each of 3; UCS-2 70 / 67"
)

SINGLE = {"GSM-7": 160, "UCS-2": 70}
PART = {"GSM-7": 153, "UCS-2": 67}  # each part of a concatenated SMS gives 7 septets to its header
_GSM7 = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿"
    "abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM7_EXTENSION = set("^{}\\[~]|€\f")  # sent as escape + character: two septets each
# As long as the signed token of a contact id below a million, so the sample is measured fairly.
SAMPLE_TOKEN = "preview" + "0" * 35


class TooLong(WavecastError):
    """One recipient's SMS takes more segments than the channel allows."""


@dataclass(frozen=True)
class Measure:
    encoding: str  # GSM-7 or UCS-2
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)
    segments: int


def measure(text: str) -> Measure:
    """How a phone network counts `text`."""
    if all(c in _GSM7 or c in _GSM7_EXTENSION for c in text):
        encoding, units = "GSM-7", sum(2 if c in _GSM7_EXTENSION else 1 for c in text)
    else:
        encoding, units = "UCS-2", len(text.encode("utf-16-le")) // 2
    segments = 1 if units <= SINGLE[encoding] else math.ceil(units / PART[encoding])
    return Measure(encoding, units, segments)


def segments_allowed(limit: int) -> int:
    """The segments `limit` GSM-7 characters fill: 160 or fewer is one, then 153 a segment."""
    return 1 if limit <= SINGLE["GSM-7"] else math.ceil(limit / PART["GSM-7"])


def _tokens(content_hash: str) -> tuple[str, ...]:
    nonce = hashlib.sha256(b"sms" + content_hash.encode()).hexdigest()[:12]
    return (*(f"Wc{nonce}F{i}x" for i in range(len(PERSONAL_FIELDS))), f"Wc{nonce}Ux")


@dataclass(frozen=True, eq=False)
class SmsSegment:
    """One segment's SMS, rendered once; `personalise` fills in one recipient's values."""

    key: SegmentKey
    message: str
    template: str
    file: str
    line: int
    content_hash: str
    parts: Parts  # the text, cut at the personal slots and the unsubscribe link
    greets: bool  # the subject names no personal field: open with the first name
    fallbacks: tuple[str, ...]
    sample: Mapping[str, str]
    sample_unsubscribe_url: str
    max_segments: int
    scheduled_at: dt.datetime
    images: tuple[str, ...] = ()
    problems: tuple[Problem, ...] = ()
    hashtag_limit: int | None = None  # an SMS carries no hashtags and no image
    image_url: str | None = None
    image_alt: str | None = None

    @property
    def channel(self) -> str:
        return self.key.channel

    @property
    def platform(self) -> str:  # the preview pages show an SMS beside the posts
        return self.key.channel

    def _text(self, fields: Mapping[str, str], unsubscribe_url: str, greet: bool) -> str:
        values = personal_values(fields, self.fallbacks)
        text = self.parts.fill([*values, unsubscribe_url])
        first_name = fields.get("first_name")
        return f"{first_name}, {text}" if greet and self.greets and first_name else text

    def personalise(self, fields: Mapping[str, str], unsubscribe_url: str) -> str:
        """The recipient's SMS. A greeting that would push it over the limit is left out;
        raises TooLong when it is over even without one (the reason names no value)."""
        for greet in (True, False):
            text = self._text(fields, unsubscribe_url, greet)
            counted = measure(text)
            if counted.segments <= self.max_segments:
                return text
        raise TooLong(
            f"the SMS takes {counted.segments} segments ({counted.encoding}, {counted.units} units), "
            f"over the limit of {self.max_segments}"
        )

    @property
    def text(self) -> str:
        """The SMS as the audience's sample contact gets it."""
        return self._text(self.sample, self.sample_unsubscribe_url, greet=True)

    @property
    def length(self) -> int:
        """The sample contact's SMS, in segments."""
        return measure(self.text).segments

    @property
    def rule(self) -> str:
        counted = measure(self.text)
        return f"SMS segments, {counted.encoding}, {counted.units} units"

    @property
    def hashtag_count(self) -> int:
        return 0

    @property
    def limit(self) -> int:
        """In segments, like `length`."""
        return self.max_segments

    @property
    def over_limit(self) -> bool:
        return self.length > self.max_segments

    def as_json(self) -> dict[str, Any]:
        counted = measure(self.text)
        return {
            "channel": self.channel,
            "wave": self.key.wave,
            "audience": self.key.audience,
            "lang": self.key.lang,
            "message": self.message,
            "text": self.text,
            "encoding": counted.encoding,
            "units": counted.units,
            "segments": counted.segments,
            "max_segments": self.max_segments,
            "content_hash": self.content_hash,
        }


def build_sms(request: RenderRequest) -> SmsSegment:
    """Render one segment's SMS with placeholder tokens; raises RenderFailed naming file and line."""
    bundle, key, message, start = request.bundle, request.key, request.message, request.start
    tokens = _tokens(request.content_hash)
    short = short_text(request, dict(zip(PERSONAL_FIELDS, tokens[:-1], strict=True)), "sms")
    where = short.where
    text = f"{short.subject}\n{short.link}\nSTOP: {tokens[-1]}"
    config = bundle.spec.channels.get(key.channel)
    limit = (config.limit if config is not None else None) or LIMITS.limit or SINGLE["GSM-7"]
    stagger = dt.timedelta(minutes=config.stagger_minutes if config is not None else 0)
    sms = SmsSegment(
        key=key,
        message=message.id,
        template=message.template,
        file=short.file,
        line=short.line,
        content_hash=request.content_hash,
        parts=Parts.split(text, tokens),
        greets=not any(t in short.subject for t in tokens[:-1]),
        fallbacks=short.fallbacks,
        sample=sample_fields(bundle, key.audience, key.lang),
        sample_unsubscribe_url=f"{request.base_url}/u/{SAMPLE_TOKEN}",
        max_segments=segments_allowed(limit),
        scheduled_at=start + stagger,
    )
    if sms.over_limit:
        counted = measure(sms.text)
        problem = where.problem(
            1,
            f"the SMS (subject, link, unsubscribe link) takes {counted.segments} segments "
            f"({counted.encoding}, {counted.units} units) for the sample contact, over the limit of "
            f"{sms.max_segments} (wave {key.wave}, audience {key.audience}): shorten the subject",
        )
        object.__setattr__(sms, "problems", (problem,))
    return sms


PHONE_MAX_DIGITS = 15  # E.164: country code and number together
_PHONE_SEPARATORS = re.compile(r"[ .\-()/]")
_E164 = re.compile(r"\+[1-9][0-9]{6,14}")


def check_phone(value: str) -> str:
    """A phone number in E.164 form (+32470123456); spaces, dots, dashes, slashes and
    brackets between the digits are dropped. Refused: anything else, a national number
    without its country code, more than 15 digits."""
    compact = _PHONE_SEPARATORS.sub("", value.strip())
    if _E164.fullmatch(compact):
        return compact
    if not compact.startswith("+"):
        reason = "is not in international form: write + and the country code first, as in +32 470 12 34 56"
    elif not compact[1:].isascii() or not compact[1:].isdigit():
        reason = "may hold only digits after the +, with spaces, dots, dashes or brackets between them"
    elif compact[1:2] == "0":
        reason = "has a country code starting with 0; write the country code without 00 or a trunk 0"
    else:
        digits = len(compact) - 1
        reason = f"has {digits} digits; an E.164 number has 7 to {PHONE_MAX_DIGITS}"
    raise InvalidAddress(reason)


def _settings(env: ChannelEnv) -> HttpEndpoint | None:
    return env.endpoint("GATEWAY_URL", "GATEWAY_TOKEN")


class SmsSender:
    def build(self, segment: object, to: Recipient) -> Outgoing:
        if not isinstance(segment, SmsSegment):
            raise WavecastError(f"segment {'/'.join(getattr(segment, 'key', ()))} did not render as an SMS")
        text = segment.personalise(to.fields, to.unsubscribe_url)
        body = json.dumps({"to": to.address, "text": text, "reference": to.key}, ensure_ascii=False, sort_keys=True)
        return Outgoing(key=to.key, recipient=to.address, body=body.encode())

    def messenger(self, config: object, settings: Settings) -> Messenger:
        if isinstance(config, HttpEndpoint):
            return JsonPostMessenger(config, "SMS gateway")
        return JsonFileMessenger(settings.outbox_dir / "sms", "SMS")


CHANNEL = ChannelDeclaration(
    LIMITS,
    build_sms,
    units=("text", "texts"),
    address=Address("phone", "phone number", check_phone, "+32470123456"),
    settings=_settings,
    sender=SmsSender(),
)
