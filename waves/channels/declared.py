"""A channel declared whole in its module of `campaign/channels/` (SMS, push), as the send loop
sees it: the loop's half of the work is the same for all of them, written once here.

For one row: read the person's address on the channel (a contact attribute, one primary-key
look-up) and check it by the channel's own rule, take the segment's cached output, and hand
both to the channel's `build`. A person without an address keeps the row, skipped with the
reason (NoAddress), so status and the report show how many the channel could not reach.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from audiences.models import contact_attributes
from audiences.tokens import unsubscribe_url
from campaign.channel_contract import ChannelSender, Messenger, NoAddress, Outgoing, Recipient
from campaign.channel_ids import Address, ChannelDeclaration, ChannelId, ChannelLimits, InvalidAddress
from campaign.db import get_engine
from campaign.errors import WavecastError
from campaign.settings import Settings
from waves.channels.contract import RunContext
from waves.ledger import Claimed
from waves.outputs import segment_for


def attribute_of(contact_id: int, name: str) -> str | None:
    """The contact's custom attribute as stored, or None."""
    with get_engine().connect() as conn:
        return conn.scalar(
            select(contact_attributes.c.value).where(
                contact_attributes.c.contact_id == contact_id, contact_attributes.c.name == name
            )
        )


def _address(address: Address, contact_id: int) -> str:
    stored = attribute_of(contact_id, address.attribute)
    if stored is None:
        raise NoAddress(f"the contact has no {address.what}")
    try:
        return address.check(stored)
    except InvalidAddress as exc:
        raise WavecastError(f"the {address.what} {exc}") from None  # the reason names no value


@dataclass(frozen=True)
class DeclaredChannel:
    declared: ChannelDeclaration
    sender: ChannelSender

    @property
    def id(self) -> ChannelId:
        return self.declared.id

    @property
    def limits(self) -> ChannelLimits:
        return self.declared.limits

    def build(self, run: RunContext, row: Claimed) -> Outgoing:
        if row.contact_id is None:
            raise WavecastError("the contact was erased")
        address = self.declared.address
        to = _address(address, row.contact_id) if address is not None else row.email or ""
        segment = segment_for(run.bundle, run.wave_id, row.audience_id, row.language, self.id)
        fields = {"first_name": row.first_name or "", "organisation_name": row.organisation_name or ""}
        recipient = Recipient(f"run-{run.run_id}/{row.id}", to, fields, unsubscribe_url(row.contact_id))
        return self.sender.build(segment, recipient)

    def messenger(self, settings: Settings) -> Messenger:
        return self.sender.messenger(settings.channels.get(self.id), settings.outbox_dir)


def declared_channels(declarations: tuple[ChannelDeclaration, ...]) -> tuple[DeclaredChannel, ...]:
    """The channels whose module carries its own sender."""
    return tuple(DeclaredChannel(d, d.sender) for d in declarations if d.sender is not None)
