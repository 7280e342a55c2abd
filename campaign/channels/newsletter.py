"""The newsletter channel: one e-mail per person, to the contact's address, in the shared layout.

Its rendering is campaign/newsletter.py: the segment's MIME skeleton is built once; each row
costs the join of its few personal fields, its unsubscribe link and its deterministic
Message-ID, and its DKIM signature when a key is configured (campaign/dkim_signing.py). The
envelope sender names the row (VERP, campaign/verp.py), so its bounce comes back to it alone.

Its messenger is the mail transport (campaign/mail_transport.py): the SMTP relay of
WAVECAST_SMTP_URL, over WAVECAST_SMTP_CONNECTIONS connections at once (one messenger each), or
.eml files in the outbox when no relay is set (the embedded default, not paced).
"""

from __future__ import annotations

from campaign import verp
from campaign.channel_contract import Messenger, Outgoing, Recipient
from campaign.channel_ids import NEWSLETTER, ChannelDeclaration, ChannelLimits, Reach
from campaign.dkim_signing import signed
from campaign.errors import WavecastError
from campaign.mail_transport import Transport, make_transport
from campaign.mime import message_id
from campaign.newsletter import NewsletterSegment, build_newsletter
from campaign.settings import Settings


def newsletter_message_id(campaign_id: str, wave_id: str, contact_id: int, domain: str) -> str:
    """Deterministic: a resend of the same message carries the same Message-ID."""
    return message_id(campaign_id, wave_id, contact_id, NEWSLETTER, domain)


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


class NewsletterSender:
    def build(self, segment: object, to: Recipient) -> Outgoing:
        if not isinstance(segment, NewsletterSegment):
            raise WavecastError(f"segment {'/'.join(getattr(segment, 'key', ()))} did not render as a newsletter")
        if to.contact is None or not to.address:
            raise WavecastError("the contact was erased")
        run = to.run
        body = segment.personalise(
            to=to.address,
            fields=to.fields,
            unsubscribe_url=to.unsubscribe_url,
            message_id=newsletter_message_id(run.campaign_id, run.wave_id, to.contact, run.domain),
        )
        return Outgoing(to.key, to.address, signed(body), sender=verp.return_path(to.row, run.sender))

    def messenger(self, config: object, settings: Settings) -> Messenger:
        return TransportMessenger(make_transport(settings))


def _connections(settings: Settings) -> int:
    return settings.smtp_connections if settings.smtp is not None else 1


def _pace(settings: Settings) -> float | None:
    """The relay's limit; .eml files reach no relay and are written as fast as the disk allows."""
    return settings.rate_per_second if settings.smtp is not None else None


CHANNEL = ChannelDeclaration(
    ChannelLimits(NEWSLETTER, Reach.PERSON),
    build_newsletter,
    units=("e-mail", "e-mails"),
    uses_layout=True,
    sender=NewsletterSender(),
    connections=_connections,
    pace=_pace,
)
