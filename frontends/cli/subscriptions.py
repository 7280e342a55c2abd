"""`wavecast subscriptions expire`: delete the double opt-in requests whose link has expired.

The scheduler does it on every sweep too; this command is for installations without one (the
embedded default) and for cron.
"""

from __future__ import annotations

import typer

from audiences.subscriptions import expire
from campaign.db import get_engine
from frontends.cli.app import app, out

subscriptions_app = typer.Typer(help="Subscriptions by double opt-in.", no_args_is_help=True)
app.add_typer(subscriptions_app, name="subscriptions")


@subscriptions_app.command("expire")
def expire_command() -> None:
    """Delete every unconfirmed subscription request whose link has expired (with its address)."""
    with get_engine().begin() as conn:
        gone = expire(conn)
    out.print(f"expired subscription requests deleted: {gone}")
