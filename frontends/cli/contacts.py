"""`wavecast contacts ...`: import, export, unsubscribe, show (GDPR access), erase, generate."""

from __future__ import annotations

import datetime as dt
import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import typer
from rich.markup import escape

from audiences.consent import UnknownContact, describe_suppression, erased_note, unsubscribe_email
from audiences.csv_rows import RowProblem
from audiences.export import export_contacts
from audiences.importer import import_contacts
from audiences.normalise import email_hash, normalise_typed
from audiences.synthetic import generate, write_csv
from audiences.tokens import unsubscribe_url
from campaign.bundle import load_spec
from campaign.errors import WavecastError
from campaign.model import LANGS, Campaign
from campaign.settings import get_settings
from campaign.timing import resolve_starts
from frontends.cli.app import app, out
from frontends.cli.identity import acting, record_action
from frontends.cli.progress import counting
from waves import personal_data

contacts_app = typer.Typer(
    help="Contacts: import and export, consent, GDPR access and erasure, demo data.",
    no_args_is_help=True,
)
app.add_typer(contacts_app, name="contacts")

DEFAULT_CAMPAIGN = Path("examples/smartnation")
CampaignOpt = typer.Option(
    None,
    "--campaign",
    "-C",
    metavar="DIR",
    help="Campaign whose languages apply (default: WAVECAST_CAMPAIGN, else examples/smartnation if present, "
    "else nl, fr, de, en).",
    show_default=False,
)


def _campaign(directory: Path | None) -> Campaign | None:
    """The campaign named, or WAVECAST_CAMPAIGN's, or the example when present, or None (all four languages)."""
    if directory is None:
        directory = get_settings().campaign_dir
    if directory is None:
        if not (DEFAULT_CAMPAIGN / "campaign.yaml").is_file():
            return None
        directory = DEFAULT_CAMPAIGN
    return load_spec(directory)[0]


def contact_hash(email: str) -> str:
    """How the audit log names a person: the keyed hash of the address, never the address."""
    return email_hash(normalise_typed(email))


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
    me = acting("contacts.import")
    spec = _campaign(campaign)
    languages = spec.campaign.languages if spec else LANGS
    tz = spec.campaign.tz if spec else ZoneInfo("Europe/Brussels")
    with counting(f"checking {file.name}" if dry_run else f"importing {file.name}") as done:
        summary = import_contacts(
            file,
            languages=languages,
            tz=tz,
            dry_run=dry_run,
            skip_invalid=skip_invalid,
            on_problem=_problem,
            on_progress=done,
        )
    if not dry_run:
        record_action(me, "contacts.import", "file", file.name[:200], after={"summary": summary.describe()})
    out.print(escape(summary.describe()))
    if dry_run and summary.invalid:
        raise typer.Exit(1)


@contacts_app.command("export")
def export_command(file: Path = typer.Argument(..., help="CSV file to write.")) -> None:
    """Write every contact held to a CSV (formula-like cells neutralised)."""
    me = acting("contacts.export")
    count = export_contacts(file)
    record_action(me, "contacts.export", "file", file.name[:200], after={"contacts": count})
    out.print(f"wrote {escape(str(file))} ({count} contacts)")


@contacts_app.command("unsubscribe")
def unsubscribe_command(email: str = typer.Argument(..., help="The contact's address.")) -> None:
    """Unsubscribe one contact: no further message of any campaign reaches them."""
    me = acting("contacts.unsubscribe")
    changed = unsubscribe_email(email)
    if changed:
        record_action(me, "contacts.unsubscribe", "contact", contact_hash(email))
    out.print("unsubscribed" if changed else "already unsubscribed")


@contacts_app.command("show")
def show_command(
    email: str = typer.Argument(..., help="The contact's address."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Everything held about one person, in every place wavecast writes (GDPR right of access)."""
    acting("contacts.export")
    holdings = personal_data.find(email)
    if not holdings.anything:
        raise UnknownContact(f"no contact holds {holdings.address}" + erased_note(holdings.suppression))
    record = holdings.as_json()
    if holdings.contact_id is not None:
        record["unsubscribe_url"] = unsubscribe_url(holdings.contact_id)
    if as_json:
        print(json.dumps(record, ensure_ascii=False, indent=2))
        return
    # Stored text may hold anything a relay replied: no control character reaches the terminal.
    sys.stdout.write("".join(f"{_CONTROL.sub('?', line)}\n" for line in _readable(holdings, record)))


def _readable(holdings: personal_data.Holdings, record: dict[str, Any]) -> Iterator[str]:
    """The same facts as --json, as sections of plain lines: one per place."""
    yield f"Everything wavecast holds about {holdings.address}"
    yield ""
    yield "Contact (database: contacts, contact_tags, contact_attributes)"
    if holdings.record is None:
        yield "  none"
    else:
        for key, value in record.items():
            if key in _PLACES or key in _HISTORY or key == "messages":
                continue
            if key == "tags":
                value = "; ".join(value) or "-"
            elif key == "attributes":
                value = ", ".join(f"{k} = {v}" for k, v in value.items()) or "-"
            elif key == "consent":
                value = f"{value['source'] or '-'} at {value['at'] or '-'}"
            yield f"  {key}: {'-' if value is None else value}"
    if holdings.record is not None:
        yield from _history(record)
    yield ""
    yield "Suppression list (database: suppressions, by the address's keyed hash)"
    if holdings.suppression is None:
        yield "  not suppressed"
    else:
        yield f"  suppressed: {describe_suppression(holdings.suppression)}"
        yield "  nothing is sent to this address, and an import does not bring it back"
    messages = record.get("messages", [])
    yield ""
    yield f"Messages (database: deliveries): {len(messages)}"
    for m in messages:
        when = f" at {m['sent_at']}" if m.get("sent_at") else ""
        error = f" ({m['last_error']})" if m.get("last_error") else ""
        where = f"{m['campaign_id']}/{m['wave_id']} {m['channel']} {m['audience_id']}/{m['language']}"
        yield f"  {where}: {m['status']}{when}{error}"
    sections = [
        ("Outbox files (WAVECAST_OUTBOX_DIR)", record["outbox_files"]),
        (
            "Initiative requests naming this address (database: initiative_requests)",
            [
                f"#{r['id']} {r['organisation']}: {r['initiative']} ({r['status']})"
                for r in record["initiative_requests"]
            ],
        ),
        (
            "Subscriptions waiting for their confirmation link (database: subscription_requests)",
            [
                f"{p['campaign_id']}: asked {p['created_at']} via {p['source']}, link works until {p['expires_at']}"
                for p in record["pending_subscriptions"]
            ],
        ),
        ("Other notes and errors quoting this address (database)", record["other_database_text"]),
        ("Log files", record["logs"]),
    ]
    for title, items in sections:
        yield ""
        yield f"{title}: {len(items)}"
        yield from (f"  {item}" for item in items)
    yield ""
    yield "Held per audience, never per person"
    yield from (f"  {place}: {why}" for place, why in personal_data.NOT_HELD.items())


def _history(record: dict[str, Any]) -> Iterator[str]:
    """Consent records, interests, campaigns left and preference changes, one line each."""
    consents = record["consent_records"]
    yield ""
    yield f"Consent records (database: consent_records): {len(consents)}"
    for c in consents:
        yield (
            f"  {c['campaign_id']}: confirmed {c['confirmed_at']} (asked {c['requested_at']}), source {c['source']}, "
            f"language {c['language']}, consent text version {c['text_version']} sha256 {c['text_hash'][:16]}…"
        )
    yield ""
    yield "Interests and campaigns left (database: contact_interests, campaign_unsubscribes)"
    for campaign_id, interests in record["interests"].items():
        yield f"  {campaign_id}: interests {', '.join(interests)}"
    for campaign_id, at in record["campaigns_left"].items():
        yield f"  {campaign_id}: unsubscribed from this campaign at {at}"
    changes = record["preference_changes"]
    yield ""
    yield f"Preference history (database: preference_changes): {len(changes)}"
    for c in changes:
        yield f"  {c['changed_at']} {c['campaign_id']}: {c['kind']} {c['value'] or ''} (from {c['source']})".rstrip()


_HISTORY = {"consent_records", "preference_changes", "interests", "campaigns_left"}
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_PLACES = {
    "outbox_files",
    "initiative_requests",
    "other_database_text",
    "logs",
    "not_held_per_person",
    "suppression",
    "pending_subscriptions",
}


@contacts_app.command("erase")
def erase_command(email: str = typer.Argument(..., help="The contact's address.")) -> None:
    """Erase one person (GDPR) everywhere wavecast wrote them: the database, the outbox, the logs.

    Only a keyed hash of the address is kept, so later imports skip them; the audit log names
    the person by that hash only."""
    me = acting("contacts.erase")
    erasure = personal_data.erase_everywhere(email)
    record_action(me, "contacts.erase", "contact", contact_hash(email), after={"held": bool(erasure.held)})
    out.print(escape(("erased: " if erasure.held else "") + erasure.describe()))


@contacts_app.command("generate")
def generate_command(
    n: int = typer.Argument(..., min=1, help="How many synthetic contacts."),
    seed: int = typer.Option(1, "--seed", help="Random seed: the same seed gives the same people."),
    campaign: Path | None = CampaignOpt,
    csv_file: Path | None = typer.Option(None, "--csv", help="Write a CSV instead of the database."),
) -> None:
    """Create synthetic demo contacts (no real person): all audiences, languages and regions."""
    me = acting("contacts.import") if csv_file is None else None
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
    with counting("generating contacts", total=n) as done:
        result = generate(n, seed, reference, on_progress=done)
    if me is not None:
        record_action(me, "contacts.import", "synthetic", str(seed), after={"created": result.created})
    kept_out = f", {result.suppressed} kept out (suppression list)" if result.suppressed else ""
    out.print(f"{n} synthetic contacts: {result.created} new, {result.updated} updated{kept_out}")
