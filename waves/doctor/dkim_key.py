"""The DKIM key as the doctor compares it with DNS: its kind, its size and the public half a
record's ``p=`` must hold. Reading the key is campaign.dkim_keys' (the signer reads it the same
way); nothing of the private key is ever shown.
"""

from __future__ import annotations

import base64
import binascii
import re

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from campaign.dkim_keys import SigningKey, public_value


def kind(key: SigningKey) -> str:
    """What DKIM's k= calls it."""
    return "ed25519" if isinstance(key, ed25519.Ed25519PrivateKey) else "rsa"


def describe(key: SigningKey) -> str:
    return f"RSA {key.key_size}-bit" if isinstance(key, rsa.RSAPrivateKey) else "Ed25519"


def _public(key: SigningKey) -> bytes:
    return base64.b64decode(public_value(key).rpartition("p=")[2])


def matches(key: SigningKey, p: str) -> bool:
    """True when a record's ``p=`` (base64, spaces allowed) is the key's public half."""
    try:
        published = base64.b64decode(re.sub(r"\s+", "", p), validate=True)
    except (binascii.Error, ValueError):
        return False
    if published == _public(key) or not isinstance(key, rsa.RSAPrivateKey):
        return published == _public(key)
    # RSA published as PKCS#1 RSAPublicKey instead of SubjectPublicKeyInfo: compare the numbers.
    pem = b"-----BEGIN RSA PUBLIC KEY-----\n" + base64.encodebytes(published) + b"-----END RSA PUBLIC KEY-----\n"
    try:
        theirs = serialization.load_pem_public_key(pem)
    except (ValueError, UnsupportedAlgorithm):
        return False
    return isinstance(theirs, rsa.RSAPublicKey) and theirs.public_numbers() == key.public_key().public_numbers()
