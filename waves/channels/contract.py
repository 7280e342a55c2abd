"""The contract every channel keeps, and the one thing the send loop knows about channels.

The send side of a channel, as the loop sees it: its declaration (campaign/channel_ids.py), how
a claimed ledger row becomes one outgoing message (its segment rendered once, typed, then
personalised), and its messenger, listmonk's push / flush / close
(campaign/channel_contract.py, where the errors below are too):

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

from typing import Protocol

from campaign.channel_contract import Messenger, Outgoing, RunContext
from campaign.channel_ids import ChannelDeclaration, ChannelId, ChannelLimits
from campaign.settings import Settings
from waves.ledger import Claimed


class Channel(Protocol):
    @property
    def id(self) -> ChannelId: ...

    @property
    def limits(self) -> ChannelLimits: ...

    @property
    def declared(self) -> ChannelDeclaration: ...

    def build(self, run: RunContext, row: Claimed) -> Outgoing:
        """The row's message: the segment's cached output, personalised for this row."""
        ...

    def messenger(self, settings: Settings) -> Messenger: ...
