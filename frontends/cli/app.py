"""The Typer application every command module registers on."""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from rich.console import Console

from campaign.bundle import Bundle
from campaign.errors import InvalidInput, Problem
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

DirArg = typer.Argument(..., help="The campaign directory (holds campaign.yaml).", show_default=False)


def report(problems: list[Problem] | tuple[Problem, ...]) -> None:
    """Problems go to stderr as plain FILE:LINE:COLUMN: lines, one each, never wrapped."""
    for problem in problems:
        sys.stderr.write(f"{problem}\n")


def open_bundle(directory: Path, *, strict: bool = False, render: bool = True) -> Bundle:
    """Load and assemble a campaign, and (unless `render` is False: the plan and the counts need
    no message) render every message once; or exit 1 after listing every problem."""
    bundle = assembled(directory, render=render)
    if strict and bundle.warnings:
        raise InvalidInput([Problem(p.file, p.line, p.column, p.message, "error") for p in bundle.warnings])
    report(bundle.warnings)
    return bundle
