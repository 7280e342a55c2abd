"""The signed return path (VERP): each message's bounces come back to an address that names it.

``bounces+1234-5f0c9a2b7e1d4c38@example.org`` names ledger row 1234; the 16 hex digits are an
HMAC of the row id under the installation's secret key, so a forged bounce cannot name someone
else's message. Digits and lower-case hex survive the relays that fold a local part's case.
"""

from __future__ import annotations

import hashlib
import hmac
import re

from campaign.settings import get_settings

_TAG = re.compile(r"\+([0-9]{1,19})-([0-9a-f]{16})(?![0-9a-f])", re.IGNORECASE)


def _mac(delivery_id: int) -> str:
    key = get_settings().secret_key.encode()
    return hmac.new(key, f"verp:{delivery_id}".encode(), hashlib.sha256).hexdigest()[:16]


def token(delivery_id: int) -> str:
    return f"{delivery_id}-{_mac(delivery_id)}"


def return_path(delivery_id: int, sender: str) -> str:
    """The envelope sender of this ledger row's message: the bounce mailbox of the settings, or
    ``bounces@`` the sender's domain, with the row's signed token."""
    mailbox = get_settings().bounces.address or f"bounces@{sender.rsplit('@', 1)[1]}"
    local, domain = mailbox.rsplit("@", 1)
    return f"{local}+{token(delivery_id)}@{domain}"


def delivery_in(text: str) -> int | None:
    """The ledger row a return path (or any text holding one) names, if its signature holds."""
    for found in _TAG.finditer(text):
        delivery_id, mac = int(found.group(1)), found.group(2).lower()
        if hmac.compare_digest(mac, _mac(delivery_id)):
            return delivery_id
    return None
