"""A channel declared whole in its module of `campaign/channels/`, as the send loop sees it: the
loop's half of the work is the same for every channel, written once here.

For one row: find its recipient (for a person, the e-mail address or, for a channel that
declares one, the contact attribute it addresses, read with the claimed row and checked by the
channel's own rule; for a post, the platform account), take the segment's cached output, and
hand both to the channel's `build`. A person without an address keeps the row, skipped with the
reason (NoAddress), so status and the report show how many the channel could not reach.
"""

from __future__ import annotations

from dataclasses import dataclass

from audiences.tokens import unsubscribe_url
from campaign.channel_contract import Messenger, NoAddress, Outgoing, Recipient, RunContext
from campaign.channel_ids import Address, ChannelDeclaration, ChannelId, ChannelLimits, InvalidAddress, Reach
from campaign.errors import WavecastError
from campaign.settings import Settings
from waves.ledger import Claimed
from waves.outputs import segment_for
from waves.row_memo import RowMemo


def _address(address: Address, stored: str | None) -> str:
    """The row's address on its channel, as claimed with it (waves/ledger.claim), checked again by
    the channel's rule: it may have been imported before the rule was."""
    if stored is None:
        raise NoAddress(f"the contact has no {address.what}")
    try:
        return address.check(stored)
    except InvalidAddress as exc:
        raise WavecastError(f"the {address.what} {exc}") from None  # the reason names no value


def _recipient(declared: ChannelDeclaration, run: RunContext, row: Claimed) -> Recipient:
    if declared.reach is Reach.POST:  # a post: no person behind it; its address is the account
        return Recipient(row.message_id, row.account or "", run, row.id, memo=RowMemo(row.id))
    if row.contact_id is None:
        raise WavecastError("the contact was erased")
    address = declared.address
    to = _address(address, row.address) if address is not None else row.email or ""
    return Recipient(
        key=f"run-{run.run_id}/{row.id}",
        address=to,
        run=run,
        row=row.id,
        contact=row.contact_id,
        fields={"first_name": row.first_name or "", "organisation_name": row.organisation_name or ""},
        unsubscribe_url=unsubscribe_url(row.contact_id),
        memo=RowMemo(row.id),
    )


@dataclass(frozen=True)
class DeclaredChannel:
    declared: ChannelDeclaration

    @property
    def id(self) -> ChannelId:
        return self.declared.id

    @property
    def limits(self) -> ChannelLimits:
        return self.declared.limits

    def build(self, run: RunContext, row: Claimed) -> Outgoing:
        recipient = _recipient(self.declared, run, row)
        segment = segment_for(run.bundle, run.wave_id, row.audience_id, row.language, self.id)
        return self.declared.sender.build(segment, recipient)

    def messenger(self, settings: Settings) -> Messenger:
        return self.declared.sender.messenger(settings.channels.get(self.id), settings)
