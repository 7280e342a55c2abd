"""The contract between wavecast and a channel's own module: what a channel renders a segment
from, the typed output generic code reads (validation, preview, status), and how a message
leaves (listmonk's messenger: push, flush, close) with the errors that sort what happened.

It sits at the bottom, beside the table of channels (campaign/channel_ids.py), so a channel's
whole declaration, its sending half included, can be one module of `campaign/channels/`: the
send loop (waves/) hands it a row's segment and recipient, and never the other way round.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from campaign.errors import Problem, WavecastError

if TYPE_CHECKING:  # types only: the errors below are raised by modules that load before these
    from campaign.bundle import Bundle
    from campaign.model import Message
    from campaign.newsletter import NewsletterSegment
    from campaign.segment_key import SegmentKey
    from campaign.settings import Settings


def account_scope(channel_id: str, account: str) -> str:
    """The key of one platform account's rows: its 429s and quota hold back those rows only."""
    return f"{channel_id}:{account}"


class TransientError(Exception):
    """Try again later: a 4xx reply, a refused or dropped connection, a timeout.

    `retry_after`: the far side said when (a 429's Retry-After, a quota's next window); the row
    waits at least that long, whatever the backoff would have made it.

    `scope`: whose trouble it is. None means a far side every row of the chunk shares (the SMTP
    relay, the webhook): the whole chunk waits. A key (one platform account's, see
    account_scope) means only that account's rows wait, and the chunk
    goes on with the others."""

    def __init__(self, reason: str, retry_after: float | None = None, *, scope: str | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after
        self.scope = scope


class PermanentError(Exception):
    """This recipient will not get this message: a 5xx reply. The reply is kept on the row.

    `refused_recipient`: the mail relay refused the recipient (at RCPT or after DATA), which
    is a bounce like any other (waves/bounces). False for everything that is not about the
    address: the relay refusing our sender, a gateway's or a network's refusal."""

    def __init__(self, reason: str, *, refused_recipient: bool = False) -> None:
        super().__init__(reason)
        self.refused_recipient = refused_recipient


class Unaddressable(Exception):
    """This one message cannot be addressed through this relay (a UTF-8 mailbox and no SMTPUTF8).

    Nothing was sent and the connection is still good: fail the one row, go on with the rest.
    """


class NoAddress(WavecastError):
    """The row's person has no address on this channel; the row is skipped with this reason."""


@dataclass(frozen=True)
class RenderRequest:
    """What a channel renders one segment from; the segment cache (campaign/segment.py) makes it."""

    bundle: Bundle
    key: SegmentKey
    message: Message
    start: dt.datetime  # the wave's start, in the campaign's time zone
    base_url: str
    content_hash: str
    hosts: frozenset[str]  # the campaign's own hosts: links there get tracked
    asset: Callable[[str], str]  # a campaign image's public URL


class ChannelSegment(Protocol):
    """A rendered segment as validation and preview read it (a post or a short message)."""

    @property
    def key(self) -> SegmentKey: ...
    @property
    def message(self) -> str: ...
    @property
    def file(self) -> str: ...
    @property
    def line(self) -> int: ...
    @property
    def content_hash(self) -> str: ...
    @property
    def scheduled_at(self) -> dt.datetime: ...
    @property
    def images(self) -> tuple[str, ...]: ...
    @property
    def problems(self) -> tuple[Problem, ...]: ...
    @property
    def platform(self) -> str: ...
    @property
    def text(self) -> str: ...
    @property
    def length(self) -> int: ...
    @property
    def limit(self) -> int: ...
    @property
    def over_limit(self) -> bool: ...
    @property
    def rule(self) -> str: ...
    @property
    def hashtag_count(self) -> int: ...
    @property
    def hashtag_limit(self) -> int | None: ...
    @property
    def image_url(self) -> str | None: ...
    @property
    def image_alt(self) -> str | None: ...
    def as_json(self) -> dict[str, Any]: ...


# What a channel renders a segment to: an e-mail, or a text validation and preview can read.
Renderer = Callable[[RenderRequest], "NewsletterSegment | ChannelSegment"]


@dataclass(frozen=True)
class RunContext:
    """What every message of one run shares: the run and its approved campaign files."""

    run_id: int
    wave_id: str
    bundle: Bundle

    @property
    def campaign_id(self) -> str:
        return self.bundle.spec.campaign.id

    @property
    def sender(self) -> str:
        return self.bundle.spec.campaign.sender.address

    @property
    def domain(self) -> str:
        return self.sender.rsplit("@", 1)[1]


class Memo(Protocol):
    """A note a messenger keeps on the message's ledger row between tries: a platform's upload id,
    written as soon as the platform answers, so a retry after a crash reuses the upload."""

    def read(self) -> str | None: ...
    def keep(self, value: str | None) -> None: ...


@dataclass(frozen=True)
class NoMemo:
    """For a message that is not a ledger row (a proof, a contract test): nothing is kept."""

    def read(self) -> str | None:
        return None

    def keep(self, value: str | None) -> None:
        pass


@dataclass(frozen=True)
class Attachment:
    """A file a post carries to a platform that takes uploads (the banner image), with its alt text."""

    data: bytes
    mime_type: str
    alt: str


@dataclass(frozen=True)
class Outgoing:
    """One personalised message, ready for a messenger."""

    key: str  # the delivery key: the same on every retry (file name, Idempotency-Key)
    recipient: str  # an e-mail address, a phone number, a platform
    body: bytes
    sender: str = ""
    attachments: tuple[Attachment, ...] = ()
    memo: Memo = field(default_factory=NoMemo, compare=False)  # what the messenger keeps on the row between tries


class Messenger(Protocol):
    def push(self, message: Outgoing) -> None: ...
    def flush(self) -> None: ...
    def close(self) -> None: ...


@dataclass(frozen=True)
class Recipient:
    """One ledger row as the send loop hands it to its channel: a person (their address on the
    channel, already checked by the channel's Address rule) or a post (the platform account)."""

    key: str  # the delivery key, the same on every retry
    address: str  # the person's address on the channel; for a post, the account's name
    run: RunContext
    row: int  # the ledger row: the newsletter's return path names it (VERP)
    contact: int | None = None  # None for a post
    fields: Mapping[str, str] = field(default_factory=dict)  # first_name, organisation_name ("" when unknown)
    unsubscribe_url: str = ""
    memo: Memo = field(default_factory=NoMemo, compare=False)


class ChannelSender(Protocol):
    """The sending half of a channel, declared in the channel's module with the rest of it."""

    def build(self, segment: object, to: Recipient) -> Outgoing:
        """One row's message from the segment's cached output; raises to fail this row only."""
        ...

    def messenger(self, config: object, settings: Settings) -> Messenger:
        """`config` is what the declaration's settings reader returned (None when it has none);
        `settings` the installation's (the outbox directory, the broker, the secret key)."""
        ...
