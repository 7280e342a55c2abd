"""The campaign as frozen pydantic models: what campaign.yaml and the message files say.

Cross-references (a wave naming an audience, an initiative naming an ambition...) are
checked in ``campaign.validate``, which knows where each value sits in the files.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    AnyHttpUrl,
    BaseModel,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    field_validator,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema

from campaign.channel_ids import channels, is_post, platforms
from campaign.languages import DEFAULT_LANGS, Lang

SCHEMA_VERSION = 1


def _known_channel(value: str) -> str:
    if value not in channels():
        raise ValueError(f"unknown channel {value!r}; wavecast sends on {', '.join(channels())}")
    return value


class _ChannelSchema:
    """The JSON Schema names every channel of the table (campaign/channel_ids.py) as an enum."""

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        schema = handler(core)
        schema["enum"] = list(channels())
        return schema


# A channel id as campaign files write it: one of the table's, read when a campaign is checked.
ChannelId = Annotated[str, AfterValidator(_known_channel), _ChannelSchema]
LANGS = DEFAULT_LANGS  # the languages assumed where no campaign says (contacts import without --campaign)
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

Ident = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")]
Translated = dict[Lang, Annotated[str, Field(min_length=1)]]
# An account's name as the settings define it (and as the ledger's `account` column holds it).
AccountName = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]
_HASHTAG = re.compile(r"^#\w+$")
# The pronoun a text addresses its reader with (campaign/layout_strings.py checks it fits the language).
Pronoun = Annotated[str, Field(pattern=r"^[A-Za-z]{1,12}$")]


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


_ADDRESS = r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$"
Address = Annotated[str, Field(pattern=_ADDRESS)]


def _in_language(value: str | dict[str, str] | None, lang: str, fallbacks: dict[str, str]) -> str | None:
    """A per-language value in lang, else in its fallback language, else the first given."""
    if value is None or isinstance(value, str):
        return value
    if lang in value:
        return value[lang]
    fallback = fallbacks.get(lang)
    return value[fallback] if fallback in value else next(iter(value.values()), None)


class Sender(Frozen):
    """Who sends the newsletter. The name (and reply-to) may differ per language, since the
    sending body is called FOD in Dutch, SPF in French and FÖD in German: a plain value serves
    every language."""

    name: Annotated[str, Field(min_length=1)] | Translated = Field(
        description="The From display name and the footer's sender; one text, or one per language."
    )
    address: Address
    reply_to: Address | dict[Lang, Address] | None = None

    @field_validator("name", "reply_to")
    @classmethod
    def _some_language(cls, value: str | dict[str, str] | None) -> str | dict[str, str] | None:
        if isinstance(value, dict) and not value:
            raise ValueError("give one value, or one per language")
        return value

    def name_in(self, lang: str, fallbacks: dict[str, str] | None = None) -> str:
        return _in_language(self.name, lang, fallbacks or {}) or ""

    def reply_to_in(self, lang: str, fallbacks: dict[str, str] | None = None) -> str | None:
        return _in_language(self.reply_to, lang, fallbacks or {})


class SendWindow(Frozen):
    """When messages may start going out, in the campaign's time zone."""

    days: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri")
    start: dt.time = dt.time(8, 0)
    end: dt.time = dt.time(20, 0)

    @model_validator(mode="after")
    def _ordered(self) -> SendWindow:
        if self.end <= self.start:
            raise ValueError("send window end must be after its start")
        if not self.days:
            raise ValueError("send window needs at least one day")
        return self


class Blackout(Frozen):
    date: dt.date
    name: str = Field(min_length=1)


_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")


def _colour(value: str) -> str:
    if not _COLOUR.match(value):
        raise ValueError(f"{value!r} is not a colour: write it as #rrggbb, e.g. #12355b")
    return value


Colour = Annotated[str, AfterValidator(_colour)]


class Branding(Frozen):
    """How the public pages (subscribe, preferences, unsubscribe) look: the campaign's name and
    sender come from ``campaign``; these add colours and a logo."""

    primary: Colour = Field(default="#12355b", description="Buttons, links and the page's top band.")
    text: Colour = "#1a1a1a"
    background: Colour = "#ffffff"
    logo: Annotated[str, Field(pattern=r"^[A-Za-z0-9_][A-Za-z0-9_/.-]*\.(png|jpg|jpeg|gif|webp)$")] | None = Field(
        default=None, description="An image file in the campaign folder (png, jpg, gif, webp), e.g. images/logo.png."
    )
    logo_alt: Translated = Field(default_factory=dict, description="The logo's text alternative per language.")


class Consent(Frozen):
    """The consent wording shown on the subscribe form. Change the text, raise the version: a
    consent record keeps the version and the hash of the exact text the person saw."""

    version: Annotated[str, Field(pattern=r"^[A-Za-z0-9._-]{1,32}$")]
    text: Translated


class Subscribe(Frozen):
    """The public subscribe form and its JSON endpoint."""

    consent: Consent
    cors_origins: tuple[Annotated[str, Field(pattern=r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$")], ...] = Field(
        default=(), description="Web sites whose pages may post to /api/subscribe (scheme://host[:port])."
    )
    confirm_hours: int = Field(default=48, ge=1, le=24 * 14, description="How long a confirmation link lives.")


class Interest(Frozen):
    """Something a subscriber can say about themselves; its tags put them in audiences."""

    id: Ident
    label: Translated
    tags: tuple[Annotated[str, Field(min_length=1, max_length=64)], ...] = Field(min_length=1)


class CampaignInfo(Frozen):
    id: Ident
    name: Translated
    languages: tuple[Lang, ...] = Field(min_length=1)
    fallbacks: dict[Lang, Lang] = Field(
        default_factory=dict,
        description="Explicit only: {en: nl} means a missing English text uses the Dutch one.",
    )
    timezone: str = "Europe/Brussels"
    sender: Sender
    website: Translated = Field(description="Landing page per language; social links point here.")
    hashtags: dict[Lang, tuple[str, ...]] = Field(default_factory=dict)
    layout_strings: dict[
        Lang, dict[Annotated[str, Field(pattern=r"^[a-z_]{1,40}$")], Annotated[str, Field(min_length=1)]]
    ] = Field(
        default_factory=dict,
        # Left out of the dump when empty, so campaigns written before it keep their content hash.
        exclude_if=lambda value: not value,
        description="Texts of the newsletter layout (footer, unsubscribe, name fallbacks) per language, "
        "for a language templates/newsletter/strings.yaml lacks or to reword it: {it: {unsubscribe: ...}}",
    )
    link_in_bio: dict[Lang, Annotated[str, Field(min_length=1, max_length=200)]] = Field(
        default_factory=dict,
        # Left out of the dump when empty, so campaigns written before it keep their content hash.
        exclude_if=lambda value: not value,
        description="What ends an Instagram caption instead of a link (Instagram makes no link in a "
        "caption clickable), per language; wavecast has a default for nl, fr, de and en.",
    )
    # `register_`: pydantic models already have a `register` (ABCMeta's); campaign.yaml says `register`.
    register_: dict[Lang, Pronoun] = Field(
        default_factory=dict,
        alias="register",
        exclude_if=lambda value: not value,
        description="How the messages address readers, per language, when not formally (u, vous, Sie): "
        "{nl: je}. The newsletter's footer follows it; an audience's own `register` comes first.",
    )
    branding: Branding | None = Field(
        default=None,
        # Left out of the dump when unset, so campaigns written before it keep their content hash.
        exclude_if=lambda value: value is None,
    )
    subscribe: Subscribe | None = Field(
        default=None,
        exclude_if=lambda value: value is None,
        description="The public subscribe form; without it, /subscribe says the campaign takes no subscriptions.",
    )
    approvals: int = Field(default=1, ge=1, le=5, description="Distinct approvers a wave needs.")
    click_tracking: bool = False
    send_window: SendWindow = SendWindow()
    blackout_dates: tuple[Blackout, ...] = ()

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @field_validator("languages")
    @classmethod
    def _unique_languages(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(value)) != len(value):
            raise ValueError("a language is listed twice")
        return value

    @field_validator("hashtags")
    @classmethod
    def _hashtag_shape(cls, value: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        for tags in value.values():
            for tag in tags:
                if not _HASHTAG.match(tag):
                    raise ValueError(f"hashtag {tag!r} must start with # and hold no spaces")
        return value

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class Kpi(Frozen):
    id: Ident
    title: Translated
    target: str = Field(min_length=1)
    unit: str | None = None


class Ambition(Frozen):
    id: Ident
    number: int = Field(ge=1, le=99)
    title: Translated
    kpis: tuple[Kpi, ...] = Field(min_length=1)


class Initiative(Frozen):
    id: Ident
    ambition: Ident
    title: Translated
    summary: Translated
    url: AnyHttpUrl | dict[Lang, AnyHttpUrl] = Field(
        description="The initiative's page, or one page per language: {nl: ..., fr: ...}."
    )
    url_language: Lang | None = Field(
        default=None,
        # Left out of the dump when unset, so campaigns written before it keep their content hash.
        exclude_if=lambda value: value is None,
        description="The language of the page readers get where the initiative has no page in "
        "theirs; they see it marked, e.g. '(in Dutch)'.",
    )
    organisation: str | None = None

    @field_validator("url")
    @classmethod
    def _some_page(cls, value: Any) -> Any:
        if isinstance(value, dict) and not value:
            raise ValueError("give one address, or one per language")
        return value

    def page_for(self, lang: str) -> tuple[str, str | None]:
        """The page to link for a reader of lang and its language when that is not lang (the
        reader is told the page is in another language), else None."""
        if isinstance(self.url, dict):
            if lang in self.url:
                return str(self.url[lang]), None
            page_lang = self.url_language if self.url_language in self.url else next(iter(self.url))
            return str(self.url[page_lang]), page_lang
        if self.url_language is not None and self.url_language != lang:
            return str(self.url), self.url_language
        return str(self.url), None


class Range(Frozen):
    min: int | None = Field(default=None, ge=0, le=150)
    max: int | None = Field(default=None, ge=0, le=150)

    @model_validator(mode="after")
    def _bounded(self) -> Range:
        if self.min is None and self.max is None:
            raise ValueError("give min, max or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("min is above max")
        return self


class Founded(Frozen):
    """Organisation founding date, relative to the wave's date or absolute."""

    within_years: int | None = Field(default=None, ge=1, le=100)
    after: dt.date | None = None
    before: dt.date | None = None

    @model_validator(mode="after")
    def _one(self) -> Founded:
        if self.within_years is None and self.after is None and self.before is None:
            raise ValueError("give within_years, after or before")
        return self


class AttributeTest(Frozen):
    """A free custom attribute imported from a CSV column."""

    name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,62}$")]
    equals: str | None = None
    in_: tuple[str, ...] | None = Field(default=None, alias="in")
    present: bool | None = None

    @model_validator(mode="after")
    def _one(self) -> AttributeTest:
        if sum(x is not None for x in (self.equals, self.in_, self.present)) != 1:
            raise ValueError("give exactly one of equals, in, present")
        return self


class Rule(Frozen):
    """A segment rule: exactly one of the fields below. Data, never code."""

    all: tuple[Rule, ...] | None = None
    any: tuple[Rule, ...] | None = None
    not_: Rule | None = Field(default=None, alias="not")
    everyone: Literal[True] | None = None
    tag: Annotated[str, Field(min_length=1)] | None = None
    language: tuple[Lang, ...] | None = None
    age: Range | None = None
    organisation_kind: tuple[Annotated[str, Field(min_length=1)], ...] | None = None
    organisation_founded: Founded | None = None
    region: tuple[Annotated[str, Field(min_length=1)], ...] | None = None
    attribute: AttributeTest | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Rule:
        given = [name for name in type(self).model_fields if getattr(self, name) is not None]
        if len(given) != 1:
            names = ", ".join(f.alias or n for n, f in type(self).model_fields.items())
            raise ValueError(f"a rule has exactly one of: {names}")
        return self

    @property
    def kind(self) -> str:
        return next(n for n in type(self).model_fields if getattr(self, n) is not None)


class Audience(Frozen):
    id: Ident
    title: Translated
    description: Translated | None = None
    rule: Rule
    sample: dict[str, str] = Field(
        default_factory=dict, description="Personal fields of the sample contact used in previews."
    )
    # `register_`: pydantic models already have a `register` (ABCMeta's); campaign.yaml says `register`.
    register_: dict[Lang, Pronoun] = Field(
        default_factory=dict,
        alias="register",
        exclude_if=lambda value: not value,
        description="How this audience's messages address readers, per language: {fr: tu, de: du, nl: je}; "
        "a language not named here takes campaign.register, else the formal pronoun.",
    )


class ChannelConfig(Frozen):
    """Overrides for a channel's limits; unset fields keep the platform's own rules."""

    limit: int | None = Field(default=None, ge=1)
    max_hashtags: int | None = Field(default=None, ge=0)
    rate_per_second: float | None = Field(default=None, gt=0)
    stagger_minutes: int = Field(default=0, ge=0, le=24 * 60)
    accounts: dict[Lang, AccountName] = Field(
        default_factory=dict,
        description="Bluesky and Mastodon: the account that publishes each language's posts, by the name "
        "given in WAVECAST_BLUESKY_ACCOUNTS / WAVECAST_MASTODON_ACCOUNTS (a language not named here uses "
        "the account named 'default'). Secrets never go in campaign files.",
    )
    visibility: Literal["public", "unlisted", "private", "direct"] = Field(
        default="public", description="Mastodon: who sees the posts."
    )


class After(Frozen):
    """A start relative to another wave's start."""

    after: Ident
    days: int = Field(default=0, ge=0, le=366)
    hours: int = Field(default=0, ge=0, le=23 * 24)
    at: dt.time | None = Field(default=None, description="Local time of day, replacing the hour.")


class Message(Frozen):
    id: Ident
    audiences: tuple[Ident, ...] = Field(min_length=1)
    channels: tuple[ChannelId, ...] = Field(min_length=1)
    template: Annotated[str, Field(pattern=r"^[A-Za-z0-9_][A-Za-z0-9_/.-]*$")] = Field(
        description="Message files: messages/<template>.<lang>.md"
    )


class Wave(Frozen):
    id: Ident
    title: Translated
    start: dt.datetime | After = Field(description="Local date-time, or {after: wave, days: n}.")
    initiatives: tuple[Ident, ...] = ()
    messages: tuple[Message, ...] = Field(min_length=1)

    @field_validator("start")
    @classmethod
    def _naive_local(cls, value: Any) -> Any:
        if isinstance(value, dt.datetime) and value.tzinfo is not None:
            raise ValueError("write the local time without an offset; the campaign's timezone applies")
        return value


def _all_channels() -> dict[ChannelId, ChannelConfig]:
    return {c: ChannelConfig() for c in channels()}


class Campaign(Frozen):
    """The root of campaign.yaml."""

    schema_version: Literal[1]
    campaign: CampaignInfo
    ambitions: tuple[Ambition, ...] = Field(min_length=1)
    initiatives: tuple[Initiative, ...] = ()
    audiences: tuple[Audience, ...] = Field(min_length=1)
    interests: tuple[Interest, ...] = Field(
        default=(),
        exclude_if=lambda value: not value,
        description="What subscribers can choose on the subscribe form and in the preference centre.",
    )
    channels: dict[ChannelId, ChannelConfig] = Field(default_factory=lambda: _all_channels())
    waves: tuple[Wave, ...] = Field(min_length=1)

    def wave(self, wave_id: str) -> Wave:
        for wave in self.waves:
            if wave.id == wave_id:
                return wave
        raise KeyError(wave_id)

    def audience(self, audience_id: str) -> Audience:
        for audience in self.audiences:
            if audience.id == audience_id:
                return audience
        raise KeyError(audience_id)

    def ambition(self, ambition_id: str) -> Ambition:
        for ambition in self.ambitions:
            if ambition.id == ambition_id:
                return ambition
        raise KeyError(ambition_id)

    def interest(self, interest_id: str) -> Interest:
        for interest in self.interests:
            if interest.id == interest_id:
                return interest
        raise KeyError(interest_id)

    def initiative(self, initiative_id: str) -> Initiative:
        for initiative in self.initiatives:
            if initiative.id == initiative_id:
                return initiative
        raise KeyError(initiative_id)


class Image(Frozen):
    src: str = Field(min_length=1)
    alt: str = Field(min_length=1)
    width: int = Field(default=600, ge=1, le=1200)


class Link(Frozen):
    label: str = Field(min_length=1)
    url: AnyHttpUrl


class MessageText(Frozen):
    """The front matter of one message file (messages/<template>.<lang>.md)."""

    subject: str = Field(min_length=1, max_length=200)
    preheader: str = Field(min_length=1, max_length=250)
    image: Image | None = None
    cta: Link | None = None
    social: dict[Literal["default"] | ChannelId, str] = Field(
        default_factory=dict,
        description="Post text per platform; 'default' serves the platforms not named.",
    )
    social_image: Image | None = None

    @field_validator("social")
    @classmethod
    def _platform_keys(cls, value: dict[str, str]) -> dict[str, str]:
        for key in value:
            if key != "default" and not is_post(key):
                raise ValueError(f"{key!r} is not a social platform; use default or one of {', '.join(platforms())}")
        return value


class MessageFile(Frozen):
    """A message file as loaded: front matter plus the Markdown/Jinja body."""

    path: str
    lang: Lang
    text: MessageText
    body: str
    body_line: int = Field(description="Line in the file where the body starts (1-based).")
    source_lang: Lang = Field(description="Language of the file used; differs only via a fallback.")
