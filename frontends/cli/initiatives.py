"""`wavecast initiatives ...`: publication requests from organisations, and their review."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from campaign import initiative_requests
from campaign.errors import WavecastError
from frontends.cli.app import app, campaign_dir, out, report
from frontends.cli.identity import acting, record_action
from waves.reviews import review_as

initiatives_app = typer.Typer(help="Initiative publication requests: submit, review, list.", no_args_is_help=True)
app.add_typer(initiatives_app, name="initiatives")

DEFAULT_CAMPAIGN = Path("examples/smartnation")
CampaignOpt = typer.Option(
    None,
    "--campaign",
    "-C",
    metavar="DIR",
    help=f"The campaign directory the request is for; default: WAVECAST_CAMPAIGN, else {DEFAULT_CAMPAIGN}.",
    show_default=False,
)


@initiatives_app.command()
def submit(
    file: Path = typer.Argument(
        ...,
        help="The request: a YAML file with organisation, contact_email, title and "
        "description per language, ambition and link.",
        show_default=False,
    ),
    campaign: Path | None = CampaignOpt,
) -> None:
    """Record a publication request as pending (editor role); someone else reviews it."""
    me = acting("initiative.submit")
    done = initiative_requests.submit(file, campaign_dir(None, campaign, default=DEFAULT_CAMPAIGN))
    record_action(
        me, "initiative.submit", "initiative", str(done.request.id), after={"initiative": done.request.initiative_id}
    )
    report(done.warnings)
    r = done.request
    out.print(
        f"request #{r.id} recorded as pending: initiative {r.initiative_id!r} of {escape(r.organisation)} "
        f"for campaign {r.campaign_id!r}, ambition {r.ambition!r}"
    )


@initiatives_app.command()
def review(
    request_id: int = typer.Argument(
        ..., help="The request's number (see `wavecast initiatives list`).", show_default=False
    ),
    approve: bool = typer.Option(False, "--approve", help="Publish it: it fits one of the ambitions."),
    reject: bool = typer.Option(False, "--reject", help="Refuse it."),
    reason: str | None = typer.Option(None, "--reason", help="Why, for the audit trail.", show_default=False),
    campaign: Path | None = CampaignOpt,
) -> None:
    """Show a request's texts as newsletters will show them; with --approve or --reject, decide.

    A decision is final.
    """
    if approve and reject:
        raise WavecastError("give exactly one of --approve and --reject")
    me = acting("initiative.review") if approve or reject else None
    shown = initiative_requests.get_request(request_id)
    out.print(f"request #{shown.id}: initiative {shown.initiative_id!r}, ambition {shown.ambition!r}, {shown.status}")
    out.print("as newsletters will show it (plain text: no link or markup from the request):")
    for label, text in initiative_requests.as_it_appears(shown):
        # Printed as it is: no console markup, emoji codes or highlighting read into it.
        out.print(f"  {label}: {text}", markup=False, emoji=False, highlight=False)
    if not approve and not reject:
        out.print("decide with --approve or --reject and --reason")
        return
    if reason is None:
        raise WavecastError("--reason is required to decide: it goes into the audit trail")
    directory = campaign_dir(None, campaign, default=DEFAULT_CAMPAIGN)
    assert me is not None  # a decision was asked for, so the role was checked above
    decided = review_as(me, request_id, approve=approve, reason=reason, campaign_dir=directory)
    r = decided.request
    out.print(f"request #{r.id} ({r.initiative_id}) {r.status} by {escape(r.decided_by or '')}")
    if decided.notify:
        out.print(f"let the organisation know at {escape(decided.notify)}; the address is now deleted from wavecast")
    if r.status == "approved":
        out.print(f"a wave can now highlight it: add {r.initiative_id} to its initiatives in campaign.yaml")


@initiatives_app.command("list")
def list_(
    status: str | None = typer.Option(None, "--status", help="pending, approved or rejected."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """The requests, oldest first (contact addresses are never shown)."""
    requests = initiative_requests.list_requests(status)
    if as_json:
        print(json.dumps([r.as_json() for r in requests], ensure_ascii=False, indent=2))
        return
    if not requests:
        out.print("no request" + (f" is {status}" if status else " yet"))
        return
    table = Table("#", "Campaign", "Initiative", "Organisation", "Ambition", "Status", "Decided by", "Reason")
    for r in requests:
        table.add_row(
            str(r.id),
            r.campaign_id,
            r.initiative_id,
            escape(r.organisation),
            r.ambition,
            r.status,
            escape(r.decided_by or "-"),
            escape(r.reason or "-"),
        )
    out.print(table)
