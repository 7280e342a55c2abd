"""The Typer application every command module registers on."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from campaign.bundle import Bundle
from campaign.errors import InvalidInput, Problem, WavecastError
from campaign.settings import get_settings
from frontends.cli.progress import counting
from waves.assembly import assembled

app = typer.Typer(
    name="wavecast",
    help="Plan, preview and send multi-wave, multi-language awareness campaigns.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

# Every command that reads a campaign finds it the same way: --campaign DIR, else WAVECAST_CAMPAIGN.
# A DIR argument, the older form, stays accepted so that existing scripts keep working.
CampaignOpt = typer.Option(
    None,
    "--campaign",
    "-C",
    metavar="DIR",
    help="The campaign directory (holds campaign.yaml); default: WAVECAST_CAMPAIGN.",
    show_default=False,
)
DirArg = typer.Argument(None, metavar="DIR", help="Same as --campaign DIR.", show_default=False)


def campaign_dir(directory: Path | None, option: Path | None, *, default: Path | None = None) -> Path:
    """The campaign directory a command was given: DIR or --campaign (not two different ones),
    else WAVECAST_CAMPAIGN, else `default`; with none, a one-line error that says how to give it."""
    if directory is not None and option is not None and directory != option:
        raise WavecastError(f"two campaign directories given ({directory} and --campaign {option}); give one")
    chosen = directory or option or get_settings().campaign_dir or default
    if chosen is None:
        raise WavecastError("which campaign? give --campaign DIR or set WAVECAST_CAMPAIGN")
    return chosen


def command() -> Any:
    """The click command behind `app`, with each on/off option shown as a plain flag in --help
    (`--json`, not `--json <bool>`): a flag takes no value, and the help should not suggest one."""
    built = typer.main.get_command(app)
    pending = [built]
    while pending:
        current = pending.pop()
        pending.extend(getattr(current, "commands", {}).values())
        help_option = current.get_help_option(current.context_class(current))
        for param in [*current.params, *([help_option] if help_option is not None else [])]:
            if getattr(param, "is_flag", False) and param.metavar is None:
                param.metavar = ""
    return built


def report(problems: list[Problem] | tuple[Problem, ...]) -> None:
    """Problems go to stderr as plain FILE:LINE:COLUMN: lines, one each, never wrapped."""
    for problem in problems:
        sys.stderr.write(f"{problem}\n")


def open_bundle(directory: Path, *, strict: bool = False, render: bool = True) -> Bundle:
    """Load and assemble a campaign, and (unless `render` is False: the plan and the counts need
    no message) render every message once; or exit 1 after listing every problem."""
    if not render:
        bundle = assembled(directory, render=False)
    else:
        with counting("rendering every message", bar=True) as done:
            bundle = assembled(directory, done=done)
    if strict and bundle.warnings:
        raise InvalidInput([Problem(p.file, p.line, p.column, p.message, "error") for p in bundle.warnings])
    report(bundle.warnings)
    return bundle
