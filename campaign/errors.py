"""Problems found in user input, reported as FILE:LINE:COLUMN: message, never as a traceback."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with the input, located as precisely as we can."""

    file: str
    line: int
    column: int
    message: str
    severity: Severity = "error"

    def __str__(self) -> str:
        prefix = "warning: " if self.severity == "warning" else ""
        return f"{self.file}:{self.line}:{self.column}: {prefix}{self.message}"


class WavecastError(Exception):
    """An error the user can act on. The CLI prints it and exits non-zero, without a traceback."""

    exit_code = 1


class InvalidInput(WavecastError):
    """Input files that cannot be used; carries every problem found, not just the first."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class SettingsError(WavecastError):
    """A WAVECAST_* environment variable holds a value we cannot use."""

    exit_code = 2


def rel(path: Path, root: Path | None = None) -> str:
    """Show a path relative to the working directory when it is below it."""
    try:
        return str(path.resolve().relative_to((root or Path.cwd()).resolve()))
    except ValueError:
        return str(path)


def internal_error_log() -> Path:
    """Where the CLI writes the traceback of an internal error (the one log file wavecast owns;
    erasure scrubs it too)."""
    return Path(tempfile.gettempdir()) / "wavecast-error.log"
