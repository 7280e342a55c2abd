"""`wavecast doctor`: the bulk-sender preflight (waves.doctor) as a table or JSON; exit 1 on a fail."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table
from rich.text import Text

from campaign.settings import get_settings
from frontends.cli.app import CampaignOpt, app, campaign_dir, open_bundle, out
from waves import doctor as preflight
from waves.doctor.records import read_records

STYLES = {preflight.Status.PASS: "green", preflight.Status.WARN: "yellow", preflight.Status.FAIL: "bold red"}


@app.command()
def doctor(
    directory: Path | None = typer.Argument(
        None,
        metavar="DIR",
        help="Same as --campaign DIR; without either only the settings and the list are checked.",
        show_default=False,
    ),
    records: Path | None = typer.Option(
        None, "--records", help='TXT records to check instead of DNS, one a line: name TXT "value".', show_default=False
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the checks as a JSON list."),
    campaign: Path | None = CampaignOpt,
) -> None:
    """Check a campaign and the settings against the bulk-sender rules (Gmail, Yahoo) before approval."""
    if directory is not None or campaign is not None or get_settings().campaign_dir is not None:
        directory = campaign_dir(directory, campaign)
    pasted = read_records(records) if records is not None else None
    bundle = open_bundle(directory, render=False) if directory is not None else None
    checks = preflight.run(bundle, get_settings(), pasted)
    if as_json:
        print(json.dumps([c.as_json() for c in checks], indent=2, ensure_ascii=False))
    else:
        table = Table(title="Bulk-sender preflight")
        for column in ("Check", "Status", "Found", "Fix"):
            table.add_column(column, overflow="fold")  # a setting's name or a record is never cut short
        for check in checks:
            table.add_row(
                check.name, Text(check.status.value, STYLES[check.status]), Text(check.found), Text(check.fix)
            )
        out.print(table)
        counts = {s: sum(1 for c in checks if c.status == s) for s in preflight.Status}
        out.print(", ".join(f"{n} {s.value}" for s, n in counts.items()), markup=False)
        if directory is None:
            out.print("give the campaign directory to check its message, its sender's domain and its waves")
    if preflight.failing(checks):
        raise typer.Exit(1)
