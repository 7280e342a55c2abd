"""The table of channels every generic part of wavecast reads: ids, what one ledger row of each
stands for, static limits, the words its counts take, the contact field it addresses.

Each channel declares itself in one module of `campaign/channels/` (a ChannelDeclaration); the
package lists those modules once and installs them here when `campaign` is imported, before any
campaign is loaded or any setting read. The campaign model, its JSON Schema, settings, the
contact definition, rendering, preview, status, the report and the send loop read this table
and name no channel. This module imports nothing of wavecast, so the modules a declaration is
built from (rendering, settings) can read it without a cycle.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from campaign.channel_contract import ChannelSender, Renderer
    from campaign.settings import ChannelEnv, Settings

# A channel's id as campaign files and ledger rows write it; the known ones are the table's keys.
ChannelId = str
NEWSLETTER: ChannelId = "newsletter"  # e-mail, which the bounce, DKIM and deliverability parts serve


class Reach(StrEnum):
    """What one ledger row of a channel stands for."""

    PERSON = "person"  # one message per contact: consent is re-checked before each one
    POST = "post"  # one post per wave x audience x language x platform account: no person, no consent


@dataclass(frozen=True)
class ChannelLimits:
    """A channel's static rules; a campaign may tighten `limit` and `max_hashtags` per channel."""

    id: ChannelId
    reach: Reach
    limit: int | None = None  # characters as the platform counts them; None: no text limit
    max_hashtags: int | None = None
    length_rule: str = "characters"  # how the platform counts, in words
    weighted: bool = False  # X's weighted count (twitter-text)
    links_count: int | None = None  # every link counts this many characters, however long
    graphemes: bool = False  # counted in user-perceived characters (Bluesky), not code points
    max_bytes: int | None = None  # the text's UTF-8 size the platform takes at most


class InvalidAddress(ValueError):
    """A contact's address on a channel is malformed; the message names no value, only the rule."""


@dataclass(frozen=True)
class Address:
    """The contact field a person channel writes to: a custom attribute of the contact (an extra
    column of the contacts CSV), checked at import and again before each message."""

    attribute: str  # "phone"
    what: str  # in words, for the reason of a skipped row: "phone number"
    check: Callable[[str], str]  # the normalised value, or InvalidAddress(reason)
    example: str  # a valid address as the check returns it, for documentation and the contract tests


@dataclass(frozen=True)
class ChannelDeclaration:
    """Everything wavecast knows about a channel, declared in the channel's own module."""

    limits: ChannelLimits
    render: Renderer  # a segment (wave x audience x language) into its typed output, once
    units: tuple[str, str] = ("message", "messages")  # a person channel's count: "e-mail", "e-mails"
    address: Address | None = None  # None: the contact's e-mail (newsletter) or no person (posts)
    uses_layout: bool = False  # the shared e-mail layout is part of the segment's content
    settings: Callable[[ChannelEnv], object] | None = None  # WAVECAST_<ID>_* read and checked at start
    sender: ChannelSender = field(kw_only=True)  # build + messenger
    # The channel's messengers are one per connection to its far side (the mail relay): this many
    # at once, by the installation's settings. None: one messenger that every connection shares.
    connections: Callable[[Settings], int] | None = None
    # The installation's pace for the channel when the campaign sets none (messages a second, 0:
    # as fast as the far side takes them), or None when nothing reaches a far side (files in the
    # outbox) and the channel is not paced at all. Unset: the campaign's rate only.
    pace: Callable[[Settings], float | None] | None = None

    @property
    def id(self) -> ChannelId:
        return self.limits.id

    @property
    def reach(self) -> Reach:
        return self.limits.reach


_TABLE: dict[ChannelId, ChannelDeclaration] = {}
# The static limits, by id: filled with the table, read at call time.
LIMITS: dict[ChannelId, ChannelLimits] = {}


def install(declarations: Mapping[ChannelId, ChannelDeclaration]) -> None:
    """Fill the table; called once, by `campaign/channels/__init__.py`."""
    _TABLE.clear()
    _TABLE.update(declarations)
    LIMITS.clear()
    LIMITS.update({c: d.limits for c, d in declarations.items()})


def declarations() -> tuple[ChannelDeclaration, ...]:
    if not _TABLE:
        raise RuntimeError("no channel is installed: import campaign.channels first")
    return tuple(_TABLE.values())


def declaration(channel: str) -> ChannelDeclaration | None:
    return _TABLE.get(channel)


def channels() -> tuple[ChannelId, ...]:
    """Every channel, in the table's order (the order plans and previews list them)."""
    return tuple(d.id for d in declarations())


def platforms() -> tuple[ChannelId, ...]:
    return tuple(d.id for d in declarations() if d.reach is Reach.POST)


def person_channels() -> tuple[ChannelId, ...]:
    return tuple(d.id for d in declarations() if d.reach is Reach.PERSON)


def is_post(channel: str) -> bool:
    """True for a channel whose rows are posts (no person behind them)."""
    found = _TABLE.get(channel)
    return found is not None and found.reach is Reach.POST


def address_attribute(name: str) -> Address | None:
    """The channel address a contact attribute holds (`phone`), or None for a free attribute."""
    for found in _TABLE.values():
        if found.address is not None and found.address.attribute == name:
            return found.address
    return None
