"""Proofs: one message per audience × language of a wave, to one address, marked as a test.

Nothing is written to the ledger: proofs are not part of the wave and never count as sent.
A proof is not a resend of a wave message either: each one gets a new Message-ID, so a mailbox
that drops a repeated id (Gmail does) still shows the second proof after an edit.
"""

from __future__ import annotations

import secrets

from accounts import audit
from accounts.roles import Actor
from audiences.normalise import email_hash, normalise_typed
from campaign.bundle import Bundle
from campaign.channel_ids import NEWSLETTER
from campaign.db import session_scope
from campaign.dkim_signing import signed
from campaign.errors import WavecastError
from campaign.mail_transport import PermanentError, TransientError, make_transport
from campaign.mime import message_id
from campaign.newsletter import sample_fields
from campaign.settings import get_settings
from waves.outputs import newsletter_for


def proof_message_id(campaign_id: str, wave_id: str, audience: str, lang: str, domain: str) -> str:
    """A Message-ID no other message has: the segment it shows, then 64 random bits."""
    return message_id(campaign_id, wave_id, f"{audience}.{lang}.{secrets.token_hex(8)}", "proof", domain)


def send_proofs(bundle: Bundle, wave_id: str, to: str, by: Actor) -> list[str]:
    """Send the proofs; returns the subjects sent. The sender (editor role) is recorded: the
    account that made a wave's last test send may not approve it."""
    by.require("wave.proof")
    address = normalise_typed(to)
    spec = bundle.spec
    try:
        wave = spec.wave(wave_id)
    except KeyError:
        raise WavecastError(f"unknown wave {wave_id!r}") from None
    settings = get_settings()
    domain = spec.campaign.sender.address.rsplit("@", 1)[1]
    transport = make_transport(settings)
    pairs = dict.fromkeys(
        (audience, lang)
        for message in wave.messages
        if NEWSLETTER in message.channels
        for audience in message.audiences
        for lang in spec.campaign.languages
    )
    subjects = []
    try:
        for audience, lang in pairs:
            segment = newsletter_for(bundle, wave_id, audience, lang)
            body = signed(
                segment.personalise(
                    to=address,
                    fields=sample_fields(bundle, audience, lang),
                    unsubscribe_url=f"{settings.base_url}/u/proof",
                    message_id=proof_message_id(spec.campaign.id, wave_id, audience, lang, domain),
                    test=True,
                )
            )
            try:
                transport.send(spec.campaign.sender.address, address, body, key=f"proofs/{wave_id}/{audience}.{lang}")
            except (TransientError, PermanentError) as exc:
                raise WavecastError(f"proof {audience}/{lang} to {address} failed: {exc}") from None
            subjects.append(f"[{audience} · {lang}] {segment.subject}")
    finally:
        transport.close()
        if subjects:
            with session_scope() as session:
                after = {"to": email_hash(address), "proofs": len(subjects)}  # the address only as its keyed hash
                audit.record(session, by, "wave.proof", "wave", f"{spec.campaign.id}:{wave_id}", after=after)
    return subjects
