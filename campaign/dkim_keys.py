"""DKIM keys: the private key read from WAVECAST_DKIM_KEY_FILE, new keys for `wavecast dkim
keygen`, and the DNS TXT record that publishes a key's public half.

Two kinds, and the signature algorithm follows the key: RSA (rsa-sha256, RFC 6376; at least
1024 bits, as RFC 8301 asks of verifiers, 2048 by default) and Ed25519 (ed25519-sha256,
RFC 8463). A key file is PEM, PKCS#8 or PKCS#1, unencrypted: what `wavecast dkim keygen`,
`openssl genpkey` and `openssl genrsa` write. A file that is missing, unreadable or not such a
key is a SettingsError naming the variable, so a sending process stops at start-up, not
half-way through a wave.
"""

from __future__ import annotations

import base64
import contextlib
import os
import re
import tempfile
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from campaign.errors import SettingsError

KEY_SETTING = "WAVECAST_DKIM_KEY_FILE"
MIN_RSA_BITS = 1024
MAX_KEY_FILE_BYTES = 64 * 1024  # a 16,384-bit RSA key is 13 KB of PEM
TXT_STRING_BYTES = 255  # one character-string of a TXT record holds at most 255 bytes
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
DNS_NAME = re.compile(rf"^{_LABEL}(?:\.{_LABEL})*$")  # a selector, or a domain in its ASCII form

SigningKey = rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey


def algorithm(key: SigningKey) -> bytes:
    """The DKIM a= value the key signs with."""
    return b"ed25519-sha256" if isinstance(key, ed25519.Ed25519PrivateKey) else b"rsa-sha256"


def read_key(path: Path) -> SigningKey:
    """The private key in `path`; a SettingsError naming WAVECAST_DKIM_KEY_FILE otherwise.
    The message never shows the file's contents."""
    where = f"{KEY_SETTING}={path}"
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_KEY_FILE_BYTES + 1)
    except FileNotFoundError:
        raise SettingsError(f"{where}: no such file; make a key with `wavecast dkim keygen`") from None
    except OSError as exc:
        raise SettingsError(f"{where}: cannot be read ({exc.strerror or exc})") from None
    if len(data) > MAX_KEY_FILE_BYTES or b"PRIVATE KEY-----" not in data:
        raise SettingsError(f"{where}: not a PEM private key (RSA or Ed25519)")
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except TypeError:  # cryptography's way of saying that the key needs a password
        raise SettingsError(f"{where}: the key is encrypted; DKIM signing needs it unencrypted (chmod 600)") from None
    except (ValueError, UnsupportedAlgorithm):
        raise SettingsError(f"{where}: not a PEM private key (RSA or Ed25519)") from None
    if isinstance(key, rsa.RSAPrivateKey):
        if key.key_size < MIN_RSA_BITS:
            raise SettingsError(
                f"{where}: an RSA key of {key.key_size} bits; receivers ignore DKIM keys under "
                f"{MIN_RSA_BITS} bits (make one of 2048 with `wavecast dkim keygen`)"
            )
        return key
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return key
    kind = type(key).__name__.removeprefix("_").replace("PrivateKey", "") or "another kind of"
    raise SettingsError(f"{where}: an {kind} key; DKIM signs with RSA or Ed25519 keys")


def new_key(kind: str, bits: int = 2048) -> SigningKey:
    """A fresh key: `kind` is "rsa" (of `bits` bits) or "ed25519"."""
    if kind == "ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def private_pem(key: SigningKey) -> bytes:
    """The key as unencrypted PKCS#8 PEM, the form `read_key` reads back."""
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def write_key(path: Path, key: SigningKey, *, replace: bool = False) -> None:
    """Write the key as PEM, readable by its owner only (0600), whole or not at all; an existing
    file is kept (FileExistsError) unless `replace`."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")  # created 0600
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(private_pem(key))
            handle.flush()
            os.fsync(handle.fileno())
        if replace:
            os.replace(tmp, path)
        else:
            os.link(tmp, path)  # fails if the path exists, with no window in which it could appear
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def public_value(key: SigningKey) -> str:
    """The TXT record's text: ``v=DKIM1; k=...; p=...``.

    RSA publishes the DER SubjectPublicKeyInfo (RFC 6376 3.6.1); Ed25519 the raw 32 bytes
    of the public key (RFC 8463 4.2)."""
    if isinstance(key, ed25519.Ed25519PrivateKey):
        raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        kind = "ed25519"
    else:
        raw = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        kind = "rsa"
    return f"v=DKIM1; k={kind}; p={base64.b64encode(raw).decode('ascii')}"


def txt_record(selector: str, domain: str, key: SigningKey) -> str:
    """``SELECTOR._domainkey.DOMAIN TXT "..."``, the text cut into strings of at most 255 bytes
    (DNS limits each string of a TXT record; verifiers join them back without a separator,
    RFC 6376 3.6.2.2)."""
    text = public_value(key)
    strings = [text[i : i + TXT_STRING_BYTES] for i in range(0, len(text), TXT_STRING_BYTES)]
    return f"{selector}._domainkey.{domain} TXT " + " ".join(f'"{s}"' for s in strings)
