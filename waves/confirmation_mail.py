"""The double opt-in e-mail: one message, in the visitor's language, with the signed link.

It goes the way proofs go (``waves.proofs``): the configured transport (SMTP relay, or an .eml
file in the outbox by default), DKIM-signed when a key is set, never through the ledger (it is
not part of a wave). The file's name is a digest of the link, never the address.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, formataddr

from campaign.db import utcnow
from campaign.dkim_signing import signed
from campaign.errors import WavecastError
from campaign.mail_transport import PermanentError, TransientError, make_transport
from campaign.model import Campaign
from campaign.people_strings import campaign_texts
from campaign.settings import get_settings

log = logging.getLogger(__name__)


def confirmation_message(spec: Campaign, to: str, lang: str, link: str) -> bytes:
    """The message as bytes: plain text, in `lang` and the campaign's register."""
    info = spec.campaign
    texts = campaign_texts(spec, lang)
    domain = info.sender.address.rsplit("@", 1)[1]
    message = EmailMessage(policy=SMTP)  # CRLF line ends, as SMTP (and every other message here) has them
    message["From"] = formataddr((info.sender.name_in(lang, dict(info.fallbacks)), info.sender.address))
    message["To"] = to
    message["Subject"] = texts["mail_subject"]
    message["Date"] = format_datetime(utcnow())
    message["Message-ID"] = f"<{info.id}.subscribe.{secrets.token_hex(12)}@{domain}>"
    message["Auto-Submitted"] = "auto-generated"
    body = (
        f"{texts['mail_body']}\n\n{link}\n\n"
        f"{texts['mail_ignore']}\n\n-- \n{texts['sent_by']} {info.sender.name_in(lang, dict(info.fallbacks))}\n"
    )
    message.set_content(body, cte="quoted-printable")
    message["Content-Language"] = lang  # after set_content, which replaces the Content-* headers
    return message.as_bytes()


def send_confirmation(spec: Campaign, to: str, lang: str, link: str) -> None:
    """Send it now; raises WavecastError when the relay cannot be reached or says try later.

    A relay that refuses the message for good (an address that does not exist) is not told to
    the visitor: that would say which addresses exist. The request then simply expires."""
    transport = make_transport(get_settings())
    key = "subscribe/" + hashlib.sha256(link.encode()).hexdigest()[:24]
    try:
        transport.send(spec.campaign.sender.address, to, signed(confirmation_message(spec, to, lang, link)), key=key)
    except PermanentError as exc:
        log.warning("the relay refused a confirmation e-mail: %s", exc)
    except TransientError as exc:
        raise WavecastError(f"the confirmation e-mail could not be sent: {exc}") from None
    finally:
        transport.close()
