"""`wavecast audit`: who did what, when; `wavecast audit verify`: is the chain whole?"""

from __future__ import annotations

import json

import typer
from rich.table import Table

from accounts import audit as audit_log
from campaign.db import get_engine
from frontends.cli.app import app, out
from frontends.cli.identity import signed_in

audit_app = typer.Typer(help="The audit log: every state change, who made it and when.", invoke_without_command=True)
app.add_typer(audit_app, name="audit")


@audit_app.callback()
def show(
    ctx: typer.Context,
    person: str | None = typer.Option(None, "--person", help="Only this account's entries (its address)."),
    wave: str | None = typer.Option(None, "--wave", help="Only this wave (CAMPAIGN:WAVE, as shown)."),
    action: str | None = typer.Option(None, "--action", help="Only this action, or a prefix: wave., contacts."),
    limit: int = typer.Option(200, "--limit", min=1, max=100_000, help="At most this many, newest first."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """The newest entries first; filter by person, wave and action."""
    if ctx.invoked_subcommand is not None:
        return
    signed_in()
    where = audit_log.Filter(actor=person, action=action, object_id=wave, limit=limit)
    with get_engine().connect() as conn:
        entries = audit_log.entries(conn, where)
    if as_json:
        print(json.dumps(entries, ensure_ascii=False, indent=2))
        return
    table = Table("#", "When (UTC)", "Who", "Action", "Object", "Before → after")
    for e in entries:
        change = " → ".join(json.dumps(v, ensure_ascii=False) for v in (e["before"], e["after"]) if v is not None)
        table.add_row(str(e["seq"]), e["at"][:19].replace("T", " "), e["actor"], e["action"], e["object"], change)
    out.print(table if entries else "no entry matches")


@audit_app.command()
def verify() -> None:
    """Walk the whole chain: exit 1 naming each entry that was edited, removed or inserted."""
    with get_engine().connect() as conn:
        result = audit_log.verify(conn)
    if result.intact:
        out.print(f"the audit log is intact: {result.entries} entries, each chained to the one before")
        return
    for problem in result.problems:
        out.print(f"audit log: {problem}", markup=False)
    out.print(f"the audit log was tampered with ({len(result.problems)} problem(s) in {result.entries} entries)")
    raise typer.Exit(1)
