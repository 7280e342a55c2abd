"""One message of the campaign, built and signed as the newsletter channel sends it.

The one-click check reads its headers and the DKIM record check verifies its signature
against the published key: what receivers judge is the message, so the doctor looks at one.
"""

from __future__ import annotations

from dataclasses import dataclass

from campaign.bundle import Bundle
from campaign.channel_ids import NEWSLETTER
from campaign.dkim_signing import signer_for
from campaign.errors import SettingsError, WavecastError
from campaign.mime import message_id
from campaign.newsletter import sample_fields
from campaign.phrase import Phrase
from campaign.settings import Settings
from waves.outputs import newsletter_for


@dataclass(frozen=True)
class Sample:
    where: str  # "wave launch, youth, nl"
    raw: bytes | None  # the message (signed when a usable key is set); None when it cannot be built
    error: str | None = None  # why it cannot be built
    signed: bool = False


def build_sample(bundle: Bundle | None, settings: Settings) -> Sample | None:
    """The campaign's first e-mail (first wave, message, audience, language), to a placeholder
    address with the sample contact's fields; None when the campaign sends no e-mail."""
    if bundle is None:
        return None
    spec = bundle.spec
    found = next(
        ((w.id, m.audiences[0]) for w in spec.waves for m in w.messages if NEWSLETTER in m.channels),
        None,
    )
    if found is None:
        return None
    wave, audience = found
    lang = spec.campaign.languages[0]
    where = Phrase("wave %(wave)s, %(audience)s, %(language)s", wave=wave, audience=audience, language=lang)
    domain = spec.campaign.sender.address.rsplit("@", 1)[1]
    try:
        raw = newsletter_for(bundle, wave, audience, lang).personalise(
            to=f"preflight@{domain}",
            fields=sample_fields(bundle, audience, lang),
            unsubscribe_url=f"{settings.base_url}/u/preflight",
            message_id=message_id(spec.campaign.id, wave, 0, "preflight", domain),
        )
    except WavecastError as exc:  # a render, header or segment problem
        return Sample(where, None, str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
    try:
        signer = signer_for(settings)
    except SettingsError:
        return Sample(where, raw)  # the DKIM key check says why
    if signer is None:
        return Sample(where, raw)
    return Sample(where, signer.sign(raw), signed=True)
