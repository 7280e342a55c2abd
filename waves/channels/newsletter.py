"""The newsletter: one e-mail per person, over SMTP or as .eml files in the outbox.

The segment's MIME skeleton is built once (campaign/mime.py); each row costs the join of its
few personal fields, its unsubscribe link and its deterministic Message-ID, and its DKIM
signature when a key is configured (campaign/dkim_signing.py), made here on the worker.
"""

from __future__ import annotations

from dataclasses import dataclass

from audiences.tokens import unsubscribe_url
from campaign.channel_ids import LIMITS, NEWSLETTER, ChannelId, ChannelLimits
from campaign.dkim_signing import signed
from campaign.errors import WavecastError
from campaign.settings import Settings
from waves.bounces import verp
from waves.channels.contract import Outgoing, RunContext
from waves.ledger import Claimed
from waves.outputs import newsletter_for, newsletter_message_id
from waves.transport import Transport, make_transport


class TransportMessenger:
    """An e-mail transport (SMTP relay or .eml files) seen as a messenger."""

    def __init__(self, transport: Transport) -> None:
        self.transport = transport

    def push(self, message: Outgoing) -> None:
        self.transport.send(message.sender, message.recipient, message.body, key=message.key)

    def flush(self) -> None:
        pass  # every push waited for the relay's reply

    def close(self) -> None:
        self.transport.close()


@dataclass(frozen=True)
class NewsletterChannel:
    id: ChannelId = NEWSLETTER

    @property
    def limits(self) -> ChannelLimits:
        return LIMITS[self.id]

    def build(self, run: RunContext, row: Claimed) -> Outgoing:
        if row.contact_id is None or row.email is None:
            raise WavecastError("the contact was erased")
        segment = newsletter_for(run.bundle, run.wave_id, row.audience_id, row.language)
        body = segment.personalise(
            to=row.email,
            fields={"first_name": row.first_name or "", "organisation_name": row.organisation_name or ""},
            unsubscribe_url=unsubscribe_url(row.contact_id),
            message_id=newsletter_message_id(run.campaign_id, run.wave_id, row.contact_id, run.domain),
        )
        # The envelope sender names this row (VERP), so its bounce comes back to it alone.
        sender = verp.return_path(row.id, run.sender)
        return Outgoing(key=f"run-{run.run_id}/{row.id}", recipient=row.email, body=signed(body), sender=sender)

    def messenger(self, settings: Settings) -> TransportMessenger:
        return TransportMessenger(make_transport(settings))


CHANNEL = NewsletterChannel()
