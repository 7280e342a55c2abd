"""SMS: one text message per person, through a plain HTTP gateway, or as files in the outbox.

The segment's text is rendered once (campaign/sms.py: the subject, the link, an unsubscribe
link); each row costs the fill of its first name and unsubscribe link, and the look-up of its
phone number. The number is the contact's custom attribute `phone` (an extra column of the
contacts CSV, checked as E.164 at import by audiences/contact_rules.py and again here), so
contacts need no new column and the ledger and the send loop stay channel-blind: the channel
reads its own address, one primary-key look-up per message. A contact without a number keeps
its ledger row, skipped with the reason (NoAddress), so status and the report show how many
people of the wave SMS could not reach. Consent is the contact's, re-checked by the loop
before each message as for e-mail.

The gateway: `WAVECAST_SMS_GATEWAY_URL` receives a JSON POST `{"to", "text", "reference"}`
with the ledger key as `Idempotency-Key` (a retry after a lost reply is recognisable, so it
makes no second SMS) and, if set, `WAVECAST_SMS_GATEWAY_TOKEN` as a bearer token. 2xx: sent;
408, 429, 5xx or no answer: try again later; any other 4xx: this message fails with the
gateway's reply kept, the phone number blanked out of it. Without a gateway, each SMS is
written to `outbox/sms/<key>.json`, the embedded default and the dry run; a retry overwrites
the same file.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy import select

from audiences.contact_rules import PHONE_ATTRIBUTE, InvalidContact, check_phone
from audiences.models import contact_attributes
from audiences.tokens import unsubscribe_url
from campaign.channel_ids import LIMITS, ChannelId, ChannelLimits
from campaign.db import get_engine
from campaign.errors import WavecastError
from campaign.settings import Settings
from campaign.sms import SmsSegment
from waves.channels.contract import Messenger, NoAddress, Outgoing, PermanentError, RunContext, TransientError
from waves.ledger import Claimed
from waves.outputs import segment_for

REPLY_KEPT = 300
_PHONE_KEY = (contact_attributes.c.contact_id, contact_attributes.c.name)


def phone_of(contact_id: int) -> str | None:
    """The contact's phone number as stored (E.164), or None."""
    with get_engine().connect() as conn:
        return conn.scalar(
            select(contact_attributes.c.value).where(_PHONE_KEY[0] == contact_id, _PHONE_KEY[1] == PHONE_ATTRIBUTE)
        )


class GatewayMessenger:
    """A plain HTTP SMS gateway: one JSON POST per message, over one reused connection."""

    def __init__(self, url: str, token: str | None, timeout: float = 10.0) -> None:
        self.url = url
        self.client = httpx.Client(timeout=timeout)
        self.auth = {"Authorization": f"Bearer {token}"} if token else {}

    def push(self, message: Outgoing) -> None:
        headers = {"Content-Type": "application/json", "Idempotency-Key": message.key, **self.auth}
        try:
            response = self.client.post(self.url, content=message.body, headers=headers)
        except httpx.HTTPError as exc:
            raise TransientError(f"SMS gateway unreachable: {type(exc).__name__}") from None
        if response.status_code < 300:
            return
        reply = _without(message.recipient, response.text[:REPLY_KEPT])
        reason = f"SMS gateway answered {response.status_code}: {reply}".strip()
        if response.status_code >= 500 or response.status_code in (408, 429):
            raise TransientError(reason)
        raise PermanentError(reason)

    def flush(self) -> None:
        pass  # every push waited for the gateway's reply

    def close(self) -> None:
        self.client.close()


def _without(phone: str, reply: str) -> str:
    """The gateway's reply with the number blanked out: replies end up on rows and in logs."""
    digits = phone.lstrip("+")
    return re.sub(rf"\+?{re.escape(digits)}", "[phone]", reply) if digits else reply


class OutboxMessenger:
    """The embedded default: one JSON file per SMS, named by its ledger key, whole or absent."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def push(self, message: Outgoing) -> None:
        target = self.directory / f"{message.key}.json"
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".", suffix=".tmp")
            with os.fdopen(fd, "wb") as handle:
                handle.write(message.body)
            os.replace(tmp, target)
        except OSError as exc:
            raise TransientError(f"SMS outbox not writable: {exc.strerror}") from None

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass


@dataclass(frozen=True)
class SmsChannel:
    id: ChannelId = "sms"

    @property
    def limits(self) -> ChannelLimits:
        return LIMITS[self.id]

    def build(self, run: RunContext, row: Claimed) -> Outgoing:
        if row.contact_id is None:
            raise WavecastError("the contact was erased")
        stored = phone_of(row.contact_id)
        if stored is None:
            raise NoAddress("the contact has no phone number")
        try:
            phone = check_phone(stored)
        except InvalidContact as exc:
            raise WavecastError(str(exc)) from None  # the reason names no digits
        segment = segment_for(run.bundle, run.wave_id, row.audience_id, row.language, self.id)
        if not isinstance(segment, SmsSegment):
            raise WavecastError(f"segment {run.wave_id}/{row.audience_id}/{row.language} did not render as an SMS")
        fields = {"first_name": row.first_name or "", "organisation_name": row.organisation_name or ""}
        text = segment.personalise(fields, unsubscribe_url(row.contact_id))
        key = f"run-{run.run_id}/{row.id}"
        body = json.dumps({"to": phone, "text": text, "reference": key}, ensure_ascii=False, sort_keys=True)
        return Outgoing(key=key, recipient=phone, body=body.encode())

    def messenger(self, settings: Settings) -> Messenger:
        if settings.sms_gateway_url:
            return GatewayMessenger(settings.sms_gateway_url, settings.sms_gateway_token)
        return OutboxMessenger(settings.outbox_dir / "sms")


CHANNEL = SmsChannel()
