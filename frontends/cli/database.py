"""`wavecast db ...`: schema migrations."""

from __future__ import annotations

import typer

from campaign.db import current_revision, engine_for, head_revision, upgrade
from campaign.settings import get_settings
from frontends.cli.app import app, out

db_app = typer.Typer(help="Database schema commands.", no_args_is_help=True)
app.add_typer(db_app, name="db")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending migration to WAVECAST_DATABASE_URL."""
    engine = engine_for(get_settings().database_url)
    before, after = upgrade(engine)
    if before == after:
        out.print(f"database already at revision {after}")
    else:
        out.print(f"database upgraded from {before or 'empty'} to {after}")


@db_app.command("status")
def db_status() -> None:
    """Show the database's schema revision and the one this wavecast needs."""
    engine = engine_for(get_settings().database_url)
    current, head = current_revision(engine), head_revision()
    state = "up to date" if current == head else "behind: run `wavecast db upgrade`"
    out.print(f"revision {current or 'none'}, needs {head}: {state}")
