"""`--as-of DATE` and the past-dates notice shared by the commands that schedule."""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Mapping
from zoneinfo import ZoneInfo

import typer

from campaign.as_of import Today, parse_as_of

AsOfOpt = typer.Option(
    None,
    "--as-of",
    help="Read the campaign as if today were this day (YYYY-MM-DD), e.g. its launch day; no date is changed.",
    show_default=False,
)


def today(as_of: str | None, tz: ZoneInfo) -> Today:
    """The reference day of a command: --as-of when given, else today in the campaign's zone."""
    return Today.of(parse_as_of(as_of), tz)


def say(line: str | None) -> None:
    """Notices go to stderr, whole and unwrapped, so --json and --ics output stay as they were."""
    if line is not None:
        sys.stderr.write(f"{line}\n")


def warn_past(reference: Today, starts: Mapping[str, dt.datetime]) -> None:
    say(reference.past_notice(starts))
