"""`wavecast bounces ...`: take bounce reports by mail, from a relay (serve) or a mailbox (poll)."""

from __future__ import annotations

import logging

import typer

from campaign.settings import get_settings
from frontends.cli.app import app, out
from waves.bounces import imap_poller, smtp_receiver

bounces_app = typer.Typer(help="Bounces and complaints that come back by mail.", no_args_is_help=True)
app.add_typer(bounces_app, name="bounces")


def _log_each_message(module: str) -> None:
    """The receiver and the poller log one line per message (or poll) at INFO; the CLI's default
    level is WARNING, and only these lines are wanted, not every library's INFO."""
    logging.getLogger(module).setLevel(logging.INFO)


@bounces_app.command("serve")
def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on; the relay's side of the network."),
    port: int | None = typer.Option(
        None,
        "--port",
        min=1,
        max=65535,
        help=f"Port to listen on (default {smtp_receiver.SMTP_PORT}; {smtp_receiver.LMTP_PORT} with --lmtp).",
        show_default=False,
    ),
    lmtp: bool = typer.Option(False, "--lmtp", help="Speak LMTP (one reply per recipient) instead of SMTP."),
) -> None:
    """Receive the bounces a relay forwards, until SIGTERM or Ctrl-C.

    Only signed bounce addresses (bounces+TOKEN@...) are accepted as recipients."""
    _log_each_message(smtp_receiver.__name__)
    chosen = port or (smtp_receiver.LMTP_PORT if lmtp else smtp_receiver.SMTP_PORT)
    smtp_receiver.serve(host, chosen, lmtp=lmtp)


@bounces_app.command("poll")
def poll(
    once: bool = typer.Option(False, "--once", help="Poll one time and exit."),
    interval: float = typer.Option(60.0, "--interval", min=1, help="Seconds between two polls."),
) -> None:
    """Read the bounces in the mailbox of WAVECAST_BOUNCE_IMAP_URL; remove the ones taken."""
    box = imap_poller.mailbox_of(get_settings().bounces.imap_url)
    if once:
        out.print(f"{box.shown}: {imap_poller.poll(box).summary()}", markup=False, highlight=False)
        return
    _log_each_message(imap_poller.__name__)
    imap_poller.watch(box, interval)
