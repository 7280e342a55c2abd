"""The wavecast web app served by a real uvicorn on a free loopback port, in a thread."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import uvicorn

from frontends.web.app import create_app
from tests.conftest import free_port


@contextmanager
def live_app(campaign_dir: Path | None, port: int | None = None) -> Iterator[str]:
    """Yield the base address (http://127.0.0.1:PORT) while the server runs; on `port` if given
    (a peer that redirects back to the app must know its address before it starts)."""
    with live_server(campaign_dir, port) as (base, _server):
        yield base


@contextmanager
def live_server(campaign_dir: Path | None, port: int | None = None) -> Iterator[tuple[str, uvicorn.Server]]:
    """``live_app`` with the server too, for tests that look at the requests under way."""
    port = port or free_port()
    config = uvicorn.Config(
        create_app(campaign_dir), host="127.0.0.1", port=port, log_level="warning", lifespan="off", ws="none"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}", server
    finally:
        server.should_exit = True
        thread.join(timeout=10)
