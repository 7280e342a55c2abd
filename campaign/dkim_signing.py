"""DKIM signatures on the newsletter (RFC 6376; ed25519-sha256 from RFC 8463), one per message.

The signing domain (d=) is always the domain of the message's own From address, so a receiver
looks the key up at ``SELECTOR._domainkey.<From domain>``; the one key and selector of the
settings serve every campaign, and each From domain must publish the record.

dkimpy does the standard's parts: reading the header block, relaxed/relaxed canonicalisation,
choosing and hashing the signed header fields, folding the DKIM-Signature field. The signature
itself is made by OpenSSL (through `cryptography`) with the key read and parsed once per
process. `dkim.sign` would parse the PEM key and the whole message again for every message, and
its RSA is Python integer arithmetic: 6 ms per RSA-2048 signature, where this module signs a
whole message in under 0.5 ms (docs/BENCHMARKS.md, "DKIM signing"). The module-level helpers
of dkimpy used here are the ones its own `DKIM.sign` uses; tests/test_dkim.py verifies every
signature with `dkim.verify`, so a dkimpy that changed them would fail there, not in a mailbox.
"""

from __future__ import annotations

import base64
import hashlib
import re
import time
from email.utils import parseaddr
from functools import cache, lru_cache

import dkim
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, utils
from dkim.canonicalization import CanonicalizationPolicy

from campaign.dkim_keys import SigningKey, algorithm, read_key
from campaign.errors import WavecastError
from campaign.settings import DkimKey, Settings, get_settings

# The fields a bulk sender is judged by; one that a message lacks is signed as absent, so it
# cannot be added on the way. From is listed twice, so that no second From can be added.
SIGNED_FIELDS = (
    b"from",
    b"to",
    b"subject",
    b"date",
    b"message-id",
    b"mime-version",
    b"content-type",
    b"list-unsubscribe",
    b"list-unsubscribe-post",
    b"list-id",
    b"feedback-id",
    b"reply-to",
    b"from",
)
_RELAXED = CanonicalizationPolicy.from_c_value(b"relaxed/relaxed")
_SIMPLE = CanonicalizationPolicy.from_c_value(b"simple/simple")
_FIELD_NAME = b"DKIM-Signature"
_SPACES = re.compile(b"  +")


class Unsignable(WavecastError):
    """A message that cannot be signed: no From address with a domain."""


class Signer:
    """One private key and its selector; signs any message for its From domain."""

    def __init__(self, key: SigningKey, selector: str) -> None:
        self.key = key
        self.selector = selector.encode("ascii")
        self.algorithm = algorithm(key)

    def _signature(self, digest: bytes) -> bytes:
        if isinstance(self.key, ed25519.Ed25519PrivateKey):
            return self.key.sign(digest)  # RFC 8463: Ed25519 over the SHA-256 of the signed data
        return self.key.sign(digest, padding.PKCS1v15(), utils.Prehashed(hashes.SHA256()))

    def sign(self, message: bytes) -> bytes:
        """The message (CRLF line ends) with its DKIM-Signature field in front."""
        head, _, body = message.partition(b"\r\n\r\n")
        fields, _ = dkim.rfc822_parse(head + b"\r\n\r\n")
        domain = _from_domain(next((value for name, value in fields if name.lower() == b"from"), b""))
        body_hash = hashlib.sha256(relaxed_body(body)).digest()
        tags = [
            (b"v", b"1"),
            (b"a", self.algorithm),
            (b"c", b"relaxed/relaxed"),
            (b"d", domain),
            (b"s", self.selector),
            (b"t", str(int(time.time())).encode("ascii")),  # like Date, the second it was built
            (b"h", b" : ".join(SIGNED_FIELDS)),
            (b"bh", base64.b64encode(body_hash)),
            (b"b", b""),
        ]
        # Folded now, with b= empty: what is hashed is the field exactly as it will be sent.
        unsigned = dkim.fold(b"; ".join(name + b"=" + value for name, value in tags), namelen=len(_FIELD_NAME))
        hasher = hashlib.sha256()
        dkim.hash_headers(
            hasher, _RELAXED, _RELAXED.canonicalize_headers(fields), SIGNED_FIELDS, (_FIELD_NAME, b" " + unsigned), {}
        )
        signature = base64.b64encode(self._signature(hasher.digest()))
        lines = [signature[i : i + 72] for i in range(0, len(signature), 72)]
        return _FIELD_NAME + b": " + unsigned + b"\r\n " + b"\r\n ".join(lines) + b"\r\n" + message


def relaxed_body(body: bytes) -> bytes:
    """The body in relaxed canonical form (RFC 6376 3.4.4), exactly as dkimpy makes it, sooner.

    dkimpy runs two regular expressions over the whole body, each starting with a character
    class, so each tries every position: half a millisecond for a 21 KB newsletter, half of
    what signing costs. Without a tab and without a space before a line end (quoted-printable
    never writes one), they only shorten runs of spaces, which a search for two spaces finds
    as fast as a substring test. Any other body goes through dkimpy's own code."""
    if b"\t" in body or b" \r\n" in body:
        return _RELAXED.canonicalize_body(body)
    # What is left of relaxed: ignore empty lines at the end (as "simple" does), and an
    # empty body is empty, not one line end.
    canonical = _SIMPLE.canonicalize_body(_SPACES.sub(b" ", body) if b"  " in body else body)
    return b"" if canonical == b"\r\n" else canonical


@lru_cache(maxsize=64)
def _from_domain(value: bytes) -> bytes:
    """The domain of a From field's address (already in its ASCII form: campaign.mime writes it
    so), lower case. Cached: every message of a segment has the same From."""
    _, address = parseaddr(value.replace(b"\r\n", b"").decode("utf-8", errors="replace").strip())
    local, at, domain = address.rpartition("@")
    if not (local and at and domain and domain.isascii()):
        raise Unsignable("the message has no From address with a domain to sign for")
    return domain.lower().encode("ascii")


@cache
def _signer(config: DkimKey) -> Signer:
    return Signer(read_key(config.key_file), config.selector)


def signer_for(settings: Settings) -> Signer | None:
    """The process's signer: the key is read and parsed on the first call, then kept (a rotated
    key takes effect when the process restarts). None when DKIM is not configured. Raises
    SettingsError naming WAVECAST_DKIM_KEY_FILE when the key cannot be used: every entry point
    calls this at start-up."""
    return None if settings.dkim is None else _signer(settings.dkim)


def signed(message: bytes) -> bytes:
    """The message signed with the configured key, or as it is when DKIM is not configured."""
    signer = signer_for(get_settings())
    return message if signer is None else signer.sign(message)
