"""`wavecast contacts ...`: import, export, unsubscribe, show (GDPR access), erase, generate."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import typer
from rich.markup import escape
from rich.table import Table

from audiences.consent import erase, show, unsubscribe_email
from audiences.csv_rows import RowProblem
from audiences.export import export_contacts
from audiences.importer import import_contacts
from audiences.synthetic import generate, write_csv
from audiences.tokens import unsubscribe_url
from campaign.bundle import load_spec
from campaign.cli.app import app, out
from campaign.errors import WavecastError
from campaign.model import LANGS, Campaign
from campaign.timing import resolve_starts

contacts_app = typer.Typer(
    help="Contacts: import and export, consent, GDPR access and erasure, demo data.",
    no_args_is_help=True,
)
app.add_typer(contacts_app, name="contacts")

DEFAULT_CAMPAIGN = Path("examples/smartnation")
CampaignOpt = typer.Option(
    None,
    "--campaign",
    help="Campaign whose languages apply (default: examples/smartnation if present, else nl, fr, de, en).",
    show_default=False,
)


def _campaign(directory: Path | None) -> Campaign | None:
    """The campaign named, or the example when present, or None (all four languages)."""
    if directory is None:
        if not (DEFAULT_CAMPAIGN / "campaign.yaml").is_file():
            return None
        directory = DEFAULT_CAMPAIGN
    return load_spec(directory)[0]


def _problem(problem: RowProblem) -> None:
    sys.stderr.write(f"{problem}\n")


@contacts_app.command("import")
def import_command(
    file: Path = typer.Argument(..., help="CSV with a header row; UTF-8, with or without BOM."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Check every row, write nothing."),
    skip_invalid: bool = typer.Option(False, "--skip-invalid", help="Import the good rows, list the bad."),
    campaign: Path | None = CampaignOpt,
) -> None:
    """Import or update contacts (by email, case-insensitively). Nothing is imported if a row is bad."""
    spec = _campaign(campaign)
    languages = spec.campaign.languages if spec else LANGS
    tz = spec.campaign.tz if spec else ZoneInfo("Europe/Brussels")
    summary = import_contacts(
        file,
        languages=languages,
        tz=tz,
        dry_run=dry_run,
        skip_invalid=skip_invalid,
        on_problem=_problem,
    )
    out.print(escape(summary.describe()))
    if dry_run and summary.invalid:
        raise typer.Exit(1)


@contacts_app.command("export")
def export_command(file: Path = typer.Argument(..., help="CSV file to write.")) -> None:
    """Write every contact held to a CSV (formula-like cells neutralised)."""
    count = export_contacts(file)
    out.print(f"wrote {escape(str(file))} ({count} contacts)")


@contacts_app.command("unsubscribe")
def unsubscribe_command(email: str = typer.Argument(..., help="The contact's address.")) -> None:
    """Unsubscribe one contact: no further message of any campaign reaches them."""
    changed = unsubscribe_email(email)
    out.print("unsubscribed" if changed else "already unsubscribed")


@contacts_app.command("show")
def show_command(
    email: str = typer.Argument(..., help="The contact's address."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Everything held about one person (GDPR right of access)."""
    record = show(email)
    record["unsubscribe_url"] = unsubscribe_url(record["id"])
    if as_json:
        print(json.dumps(record, ensure_ascii=False, indent=2))
        return
    table = Table(title=escape(record["email"]), show_header=False)
    table.add_column("Field", style="bold")
    table.add_column("Value", overflow="fold")
    for key, value in record.items():
        if key == "tags":
            value = "; ".join(value) or "-"
        elif key == "attributes":
            value = "\n".join(f"{k} = {v}" for k, v in value.items()) or "-"
        elif key == "consent":
            value = f"{value['source'] or '-'} at {value['at'] or '-'}"
        table.add_row(key, escape("-" if value is None else str(value)))
    out.print(table)


@contacts_app.command("erase")
def erase_command(email: str = typer.Argument(..., help="The contact's address.")) -> None:
    """Erase one person (GDPR): delete their data, keep only a keyed hash so imports skip them."""
    held = erase(email)
    if held:
        out.print("erased; the address's keyed hash is on the suppression list")
    else:
        out.print("no contact held this address; its keyed hash is on the suppression list")


@contacts_app.command("generate")
def generate_command(
    n: int = typer.Argument(..., min=1, help="How many synthetic contacts."),
    seed: int = typer.Option(1, "--seed", help="Random seed: the same seed gives the same people."),
    campaign: Path | None = CampaignOpt,
    csv_file: Path | None = typer.Option(None, "--csv", help="Write a CSV instead of the database."),
) -> None:
    """Create synthetic demo contacts (no real person): all audiences, languages and regions."""
    spec = _campaign(campaign)
    reference = dt.date.today()
    if spec is not None:
        reference = min(resolve_starts(spec).values()).date()
    if csv_file is not None:
        try:
            write_csv(csv_file, n, seed, reference)
        except OSError as exc:
            raise WavecastError(f"{csv_file}: cannot write: {exc.strerror}") from None
        out.print(f"wrote {escape(str(csv_file))} ({n} synthetic contacts)")
        return
    result = generate(n, seed, reference)
    kept_out = f", {result.suppressed} kept out (suppression list)" if result.suppressed else ""
    out.print(f"{n} synthetic contacts: {result.created} new, {result.updated} updated{kept_out}")
