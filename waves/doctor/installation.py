"""Checks of the installation's own settings: the secret key, the relay's pace, the DKIM key.

None of them needs DNS or the database; each says the setting to change.
"""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric import rsa

from campaign.channel_ids import NEWSLETTER
from campaign.dkim_keys import read_key
from campaign.errors import SettingsError
from campaign.phrase import Phrase
from waves.doctor.check import Check, Status
from waves.doctor.context import NO_RELAY, Context
from waves.doctor.dkim_key import describe

RSA_ADVISED_BITS = 2048


def secret_key(ctx: Context) -> Check:
    """The key signs every unsubscribe link and the return paths: the public default lets
    anyone unsubscribe anyone, or forge a bounce that suppresses an address."""
    name = Phrase("secret key")
    if not ctx.settings.public_secret:
        return Check(name, Status.PASS, Phrase("WAVECAST_SECRET_KEY is set (not shown)"))
    return Check(
        name,
        ctx.weight,
        Phrase("WAVECAST_SECRET_KEY is the public default: anyone can forge unsubscribe links and bounces"),
        Phrase(
            "set WAVECAST_SECRET_KEY to a random value of this installation, e.g. "
            "`python3 -c 'import secrets; print(secrets.token_hex(32))'`"
        ),
    )


def relay_rate(ctx: Context) -> Check:
    """A relay on another machine takes what it is given and then throttles or refuses it:
    a wave needs a pace it can keep. A mail server on loopback queues and paces by itself."""
    name = Phrase("relay rate limit")
    settings = ctx.settings
    if settings.smtp is None:
        return Check(
            name, Status.WARN, NO_RELAY, Phrase("set WAVECAST_SMTP_URL to your relay before sending to people")
        )
    config = ctx.bundle.spec.channels.get(NEWSLETTER) if ctx.bundle is not None else None
    if config is not None and config.rate_per_second:
        return Check(
            name,
            Status.PASS,
            Phrase("%(rate)g e-mails/s (campaign.yaml channels.newsletter)", rate=config.rate_per_second),
        )
    if settings.rate_per_second > 0:
        return Check(
            name, Status.PASS, Phrase("%(rate)g e-mails/s (WAVECAST_RATE_PER_SECOND)", rate=settings.rate_per_second)
        )
    if ctx.loopback_relay:
        return Check(
            name,
            Status.PASS,
            Phrase("relay on loopback (%(host)s): the local mail server queues and paces", host=settings.smtp.host),
        )
    return Check(
        name,
        Status.FAIL,
        Phrase(
            "WAVECAST_RATE_PER_SECOND is not set: a wave goes to %(host)s as fast as it takes it",
            host=settings.smtp.host,
        ),
        Phrase("set WAVECAST_RATE_PER_SECOND (> 0) to the rate your relay allows, e.g. 10"),
    )


def dkim_key(ctx: Context) -> Check:
    """The key is readable and a key (as the signer reads it); d= is each message's From
    domain, so it is aligned with From by construction."""
    name = Phrase("DKIM key")
    dkim = ctx.settings.dkim
    if dkim is None:
        return Check(
            name,
            ctx.weight,
            Phrase("WAVECAST_DKIM_KEY_FILE and WAVECAST_DKIM_SELECTOR are not set: e-mail goes out unsigned"),
            Phrase("make a key with `wavecast dkim keygen`, publish its record, and set both"),
        )
    try:
        key = read_key(dkim.key_file)
    except SettingsError as exc:
        return Check(
            name,
            Status.FAIL,
            str(exc),
            Phrase("point WAVECAST_DKIM_KEY_FILE at the key `wavecast dkim keygen` wrote"),
        )
    domain = ctx.from_domain
    signs = (
        Phrase("d=%(domain)s (the From domain: aligned), s=%(selector)s", domain=domain, selector=dkim.selector)
        if domain
        else f"s={dkim.selector}"
    )
    found = Phrase("%(key)s key in %(file)s; %(signs)s", key=describe(key), file=str(dkim.key_file), signs=signs)
    if not isinstance(key, rsa.RSAPrivateKey):
        return Check(
            name,
            Status.WARN,
            Phrase("%(found)s; Gmail and many receivers do not verify Ed25519 signatures yet", found=found),
            Phrase("sign with an RSA 2048-bit key (`wavecast dkim keygen --algorithm rsa`)"),
        )
    if key.key_size < RSA_ADVISED_BITS:
        return Check(
            name,
            Status.WARN,
            Phrase("%(found)s; 2048 bits is the advised minimum", found=found),
            Phrase("use an RSA 2048-bit key"),
        )
    return Check(name, Status.PASS, found)
