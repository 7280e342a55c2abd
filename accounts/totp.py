"""Optional second factor: a time-based one-time code (RFC 6238) from an authenticator app."""

from __future__ import annotations

import pyotp

ISSUER = "wavecast"


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, email: str) -> str:
    """The otpauth:// address an authenticator app reads (usually from a QR code)."""
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER)


def code_matches(secret: str, code: str) -> bool:
    """The current code, or the one of the 30 s step before or after (clock drift)."""
    code = code.strip().replace(" ", "")
    return code.isdigit() and len(code) == 6 and pyotp.TOTP(secret).verify(code, valid_window=1)
