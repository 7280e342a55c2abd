"""`wavecast serve`: the local web app (preview and the team's dashboard); in the embedded default
it also publishes the posts of launched waves as they fall due."""

from __future__ import annotations

import ipaddress
import os
import sys
import threading
import time
from pathlib import Path

import typer

from accounts import directory as team
from campaign.db import session_scope
from campaign.errors import InvalidInput, WavecastError
from campaign.settings import get_settings
from frontends.cli.app import CampaignOpt, DirArg, app, campaign_dir, out
from waves.assembly import assembled
from waves.due_posts import publish_until

STOP_SECONDS = 2  # after SIGTERM, how long requests in flight may take to finish


def _has_accounts() -> bool:
    with session_scope() as session:
        return bool(team.listing(session))


@app.command()
def serve(
    directory: Path | None = DirArg,
    campaign: Path | None = CampaignOpt,
    host: str = typer.Option(
        "127.0.0.1",
        "--host",
        help="Address to listen on; keep the loopback default unless "
        "you mean to share it (then every page needs the operator token).",
    ),
    port: int = typer.Option(8000, "--port", min=1, max=65535, help="Port to listen on."),
) -> None:
    """Serve the preview and the dashboard. Pages follow edits of the campaign files without a restart."""
    # Lazy: the web stack (uvicorn, FastAPI and every route, ~0.4 s) is for this command only.
    directory = campaign_dir(directory, campaign)
    import uvicorn

    from frontends.web.app import create_app

    if not (directory / "campaign.yaml").is_file():
        raise WavecastError(f"{directory}: not a campaign directory (no campaign.yaml)")
    try:
        assembled(directory)
    except InvalidInput as exc:
        # Still serve: the preview shows the problems and picks up the fix on reload.
        sys.stderr.write(f"{exc}\nthe preview shows these problems until the files are fixed\n")
    if not _loopback(host):
        out.print(f"listening on {host}: pages need a signed-in account from other machines")
    if not _has_accounts():
        out.print("no account yet: nobody can sign in until `wavecast accounts create-admin EMAIL`")
    out.print(f"wavecast: http://{host if ':' not in host else f'[{host}]'}:{port}/  (preview: /preview)")
    stop = threading.Event()
    if get_settings().embedded:
        # No broker, so no worker: this process publishes the posts of launched waves as they
        # fall due, as `wavecast send` says it will.
        out.print("publishing the posts of launched waves as they fall due, while this runs")
        threading.Thread(target=publish_until, args=(stop,), name="due-posts", daemon=True).start()
    try:
        uvicorn.run(
            create_app(directory.resolve()),
            host=host,
            port=port,
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=STOP_SECONDS,
        )
    finally:
        stop.set()
    _leave_stragglers()


def _leave_stragglers() -> None:
    """Exit now if request threads still run after the graceful shutdown.

    A sync route can be waiting for a render (up to a page's time limit) in a thread Python
    would otherwise wait for at exit; SIGTERM has to stop the server within seconds, and those
    requests' clients were already disconnected.
    """
    deadline = time.monotonic() + 1
    for thread in threading.enumerate():
        if thread is not threading.main_thread() and not thread.daemon:
            thread.join(max(deadline - time.monotonic(), 0))
    if any(t.is_alive() and not t.daemon for t in threading.enumerate() if t is not threading.main_thread()):
        sys.stderr.write("wavecast: stopped; requests still rendering were abandoned\n")
        sys.stderr.flush()
        sys.stdout.flush()
        os._exit(0)


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"
