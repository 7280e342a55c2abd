"""What the providers' webhooks share: a request either becomes reports, or is refused with the
HTTP answer it deserves and one line that says why.

The web route only turns these into responses; the checks live beside the provider they belong
to (waves/bounces/sns.py, waves/bounces/mailgun.py), so they can be read and tested as plain
functions.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from typing import Any

from waves.bounces.reports import Report


class Refused(Exception):
    """A webhook request not taken. `status`: 400 malformed, 403 not signed by whom we trust,
    404 the hook is not configured, 413 too big, 502/503 the provider's side could not be
    reached (it will retry). `reason` is one line, safe to answer and to log: no secret, no
    address."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class Received:
    """What a signed request said: reports to record, or a note on why there are none."""

    reports: list[Report] = field(default_factory=list)
    note: str = ""


def json_object(body: bytes) -> dict[str, Any]:
    """The body as a JSON object, or Refused(400)."""
    try:
        found = json.loads(body)
    except (UnicodeDecodeError, ValueError, RecursionError):  # RecursionError: nested past any report's depth
        raise Refused(400, "the body is not JSON") from None
    if not isinstance(found, dict):
        raise Refused(400, "the body is not a JSON object")
    return found


def object_at(parent: dict[str, Any], name: str, where: str) -> dict[str, Any]:
    """``parent[name]`` when it is a JSON object, else Refused(400) naming the field."""
    found = parent.get(name)
    if not isinstance(found, dict):
        raise Refused(400, f"{where}{name}: expected an object")
    return found


_WORD = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$")


def shown(value: object) -> str:
    """A value from the request, fit for a reason line: a short word as it is, anything else not."""
    return value if isinstance(value, str) and _WORD.match(value) else "an unexpected value"


def iso_date(value: object) -> dt.datetime | None:
    """An ISO 8601 date (``2016-01-27T14:59:38.237Z``) in UTC; None when there is none."""
    if not isinstance(value, str):
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)).astimezone(dt.UTC)
