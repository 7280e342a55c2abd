"""What a valid contact is: one definition, used when a contact is imported and again when a
message is built for it.

Anything the importer accepts can be sent, and anything that cannot be sent is refused at
import with its row and field. The personal fields reach message headers (a first name may be
in the subject), so they obey the header rules of ``campaign.mime``; every other text column
refuses control characters too, NUL above all, which PostgreSQL cannot store.

Reasons never repeat the value: they end up in logs and on ledger rows, which must not hold a
person's address or name.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from audiences.models import NAME_MAX, ORGANISATION_NAME_MAX
from audiences.normalise import InvalidEmail, normalise_email
from campaign.channel_ids import InvalidAddress, address_attribute
from campaign.mime import UnsafeHeader, check_address, check_field

# The personal fields a message may carry, and the longest value each may hold.
PERSONAL_FIELDS: Mapping[str, int] = {"first_name": NAME_MAX, "organisation_name": ORGANISATION_NAME_MAX}

# C0 and C1 controls, DEL, and the Unicode line and paragraph separators.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# For free text that never reaches a message (custom attributes): line breaks and tabs may stay.
_CONTROL_BUT_LINES = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


class InvalidContact(ValueError):
    """One field of a contact that cannot be stored or sent; ``str()`` is ``field: reason``."""

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}")


def _control_reason(value: str, multiline: bool = False) -> str | None:
    bad = (_CONTROL_BUT_LINES if multiline else _CONTROL).search(value)
    if bad is None:
        return None
    char = bad.group()
    what = (
        "a NUL byte"
        if char == "\x00"
        else "a line break"
        if char in "\r\n\x0b\x0c\x85\u2028\u2029"
        else f"a control character (U+{ord(char):04X})"
    )
    return f"contains {what} at position {bad.start() + 1}"


def check_text(field: str, value: str, limit: int, *, multiline: bool = False) -> str | None:
    """A stored text column: no control characters (``multiline``: line breaks and tabs allowed,
    never NUL), at most ``limit`` characters; None if empty."""
    value = value.strip()
    reason = _control_reason(value, multiline)
    if reason is not None:
        raise InvalidContact(field, reason)
    if len(value) > limit:
        raise InvalidContact(field, f"is {len(value)} characters long; the limit is {limit}")
    return value or None


def check_personal(field: str, value: str) -> str | None:
    """A personal field: a stored text that is also safe in a message header."""
    text = check_text(field, value, PERSONAL_FIELDS[field])
    if text is not None:
        try:
            check_field(field, text, limit=PERSONAL_FIELDS[field])
        except UnsafeHeader as exc:
            raise InvalidContact(field, exc.reason) from None
    return text


def check_email(value: str) -> str:
    """The canonical address, checked for both storage and the message's To header."""
    if "\x00" in value:
        raise InvalidContact("email", "contains a NUL byte")
    try:
        email = normalise_email(value)
        check_address("To", email)
    except InvalidEmail as exc:
        raise InvalidContact("email", str(exc)) from None
    except UnsafeHeader as exc:
        raise InvalidContact("email", exc.reason) from None
    return email


def check_attribute(name: str, value: str, limit: int) -> str | None:
    """A custom attribute: free text that only feeds segment rules (it may span lines), except
    one a channel addresses (`phone`), checked by that channel's rule. None if empty."""
    address = address_attribute(name)
    if address is not None:
        if not value.strip():
            return None
        try:
            return address.check(value)
        except InvalidAddress as exc:
            raise InvalidContact(name, str(exc)) from None
    return check_text(name, value, limit, multiline=True)
