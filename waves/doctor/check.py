"""One finding of the preflight: what was checked, how it stands, what was found, how to fix it.

A fail blocks `wavecast approve` (unless overridden, with the reason in the audit trail); a
warn is shown and let through; a pass says what was found, so a green table is evidence too.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Status(StrEnum):
    PASS = "pass"  # noqa: S105 - a check's status, not a password
    WARN = "warn"
    FAIL = "fail"


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    found: str
    fix: str = ""  # one line; empty on a pass

    def as_json(self) -> dict[str, str]:
        return {"name": self.name, "status": self.status.value, "found": self.found, "fix": self.fix}


def failing(checks: list[Check]) -> list[Check]:
    return [c for c in checks if c.status == Status.FAIL]
