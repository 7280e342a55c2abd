"""A real OpenID Connect provider on loopback: panva's `oidc-provider` from npm (OpenID Certified).

`tests/peers/oidc/` pins it in its package-lock.json; `serve.js` starts it on 127.0.0.1 with one
client, wavecast's, whose redirect address is the test's app. `.ci/run` installs the node_modules;
here they are installed with `npm ci` when missing or older than the lock file, as for the PDS.
Its development sign-in page takes any login as the person's verified address.
Under CI=true a missing Node.js or npm fails the test; elsewhere it skips with the reason.
"""

from __future__ import annotations

import secrets
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port, need
from tests.peers.bluesky_pds import install_node_modules, node_tools_available

OIDC_DIR = Path(__file__).resolve().parent / "oidc"
START_TIMEOUT = 30.0


@dataclass(frozen=True)
class Provider:
    issuer: str
    client_id: str
    client_secret: str

    def settings(self) -> dict[str, str]:
        """The WAVECAST_OIDC_* settings that point wavecast at this provider."""
        return {
            "WAVECAST_OIDC_ISSUER": self.issuer,
            "WAVECAST_OIDC_CLIENT_ID": self.client_id,
            "WAVECAST_OIDC_CLIENT_SECRET": self.client_secret,
        }


@contextmanager
def running_provider(workdir: Path, redirect_uri: str) -> Iterator[Provider]:
    """Start the provider for a client that comes back to `redirect_uri`; stop it after."""
    need(node_tools_available(), "Node.js and npm (for the OpenID Connect provider peer)")
    install_node_modules(OIDC_DIR)
    port = free_port()
    provider = Provider(f"http://127.0.0.1:{port}", "wavecast", secrets.token_urlsafe(32))
    log = workdir / "oidc-provider.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            ["node", str(OIDC_DIR / "serve.js"), str(port), provider.client_id, provider.client_secret, redirect_uri],
            cwd=OIDC_DIR,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if proc.poll() is not None:
                pytest.fail(f"the OIDC provider exited with {proc.returncode}:\n{log.read_text(errors='replace')}")
            try:
                if httpx.get(f"{provider.issuer}/.well-known/openid-configuration", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass  # not listening yet
            assert time.monotonic() < deadline, f"the OIDC provider did not start:\n{log.read_text()}"
            time.sleep(0.05)  # poll interval while waiting for the discovery document
        yield provider
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
