"""The contract every channel keeps, and the one thing the send loop knows about channels.

A channel is one module: its id and limits (from campaign/channel_ids.py), how a claimed ledger
row becomes one outgoing message (its segment rendered once, typed, then personalised), and its
messenger, listmonk's push / flush / close:

- `push` hands one message over and returns only when the far side took it; it raises
  TransientError (try again later), PermanentError or Unaddressable (this one message will never
  go: its row fails with the reply kept). A TransientError without a scope stops the chunk: the
  row and the rest wait. One with a scope (`account_scope`: a 429 or a spent quota of one
  platform account) holds back only the rows of that scope, and the chunk goes on.
- `build` raises NoAddress when the person has no address on this channel (no phone number for
  SMS): nothing went wrong, so the row is skipped with the reason, not failed.
- `flush` finishes whatever the messenger batches below the message level (nothing, today);
  the loop calls it before it stops, so a stop never strands accepted work.
- `close` lets go of connections and files.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from campaign.bundle import Bundle
from campaign.channel_ids import ChannelId, ChannelLimits
from campaign.errors import WavecastError
from campaign.settings import Settings
from waves.ledger import Claimed
from waves.transport import PermanentError, TransientError, Unaddressable

__all__ = [
    "Attachment",
    "Channel",
    "Messenger",
    "NoAddress",
    "Outgoing",
    "PermanentError",
    "RunContext",
    "TransientError",
    "Unaddressable",
    "account_scope",
]


def account_scope(channel_id: str, account: str) -> str:
    """The key of one platform account's rows: its 429s and quota hold back those rows only."""
    return f"{channel_id}:{account}"


class NoAddress(WavecastError):
    """The row's person has no address on this channel; the row is skipped with this reason."""


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


class Messenger(Protocol):
    def push(self, message: Outgoing) -> None: ...
    def flush(self) -> None: ...
    def close(self) -> None: ...


class Channel(Protocol):
    @property
    def id(self) -> ChannelId: ...

    @property
    def limits(self) -> ChannelLimits: ...

    def build(self, run: RunContext, row: Claimed) -> Outgoing:
        """The row's message: the segment's cached output, personalised for this row."""
        ...

    def messenger(self, settings: Settings) -> Messenger: ...
