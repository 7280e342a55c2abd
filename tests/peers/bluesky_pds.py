"""A real Bluesky PDS on loopback: the reference server `@atproto/pds`, from npm.

`tests/peers/pds/` pins the server and the reference PLC directory (`@did-plc/server`, in memory,
since the public directory is out of reach) in its package-lock.json; `serve.js` starts both on
127.0.0.1 with an on-disk data folder and fresh secrets. `.ci/run` installs the node_modules; here
they are installed with `npm ci` when missing or older than the lock file, one installer at a time.

Start it once per test run (a fixture of pytest's widest scope): it takes about 2 seconds here,
mostly the PDS migrating its SQLite databases.
Under CI=true a missing Node.js or npm fails the test; elsewhere it skips with the reason.
"""

from __future__ import annotations

import fcntl
import os
import secrets
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port, need

PDS_DIR = Path(__file__).resolve().parent / "pds"
START_TIMEOUT = 60.0  # seconds; a start takes about 2 s here
INSTALL_TIMEOUT = 900.0  # npm ci compiles better-sqlite3 from source: about 2 minutes on 2 cores
HANDLE_DOMAIN = ".test"  # the PDS's handle domain for hostname "localhost"


@dataclass(frozen=True)
class PdsAccount:
    """One account on the loopback PDS, with what a publisher logs in with."""

    base_url: str
    handle: str
    did: str
    password: str
    app_password: str


def node_tools_available() -> bool:
    return shutil.which("node") is not None and shutil.which("npm") is not None


def install_node_modules(directory: Path = PDS_DIR) -> None:
    """`npm ci` in a peer's folder when node_modules is missing or older than package-lock.json.

    npm writes node_modules/.package-lock.json at the end of an install, so its age tells
    whether the tree matches the lock. A file lock keeps two test runs from installing at once.
    """
    lock = directory / "package-lock.json"
    done = directory / "node_modules" / ".package-lock.json"
    with open(Path(tempfile.gettempdir()) / f"wavecast-{directory.name}-npm.lock", "w") as guard:
        fcntl.flock(guard, fcntl.LOCK_EX)
        if done.exists() and done.stat().st_mtime >= lock.stat().st_mtime:
            return
        result = subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund"],
            cwd=directory,
            capture_output=True,
            text=True,
            timeout=INSTALL_TIMEOUT,
            check=False,
        )
        if result.returncode != 0:
            pytest.fail(f"npm ci in {directory} failed ({result.returncode}):\n{result.stderr[-4000:]}")


def _node_env(admin_password: str) -> dict[str, str]:
    # A developer's own PDS_* settings must not reach the test server: serve.js sets its own.
    env = {k: v for k, v in os.environ.items() if not k.startswith("PDS_")}
    env["PDS_ADMIN_PASSWORD"] = admin_password
    env["LOG_ENABLED"] = "false"
    return env


def _wait_healthy(proc: subprocess.Popen[bytes], base_url: str, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    with httpx.Client(timeout=2.0) as http:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                pytest.fail(f"the PDS exited with {proc.returncode}:\n{log.read_text(errors='replace')[-4000:]}")
            try:
                if http.get(f"{base_url}/xrpc/_health").status_code == 200:
                    return
            except httpx.TransportError:
                pass  # not listening yet
            time.sleep(0.05)  # poll interval while waiting for the health condition
    pytest.fail(f"the PDS did not answer /xrpc/_health within {START_TIMEOUT:.0f} s:\n{log.read_text()[-4000:]}")


def create_account(base_url: str, name: str) -> PdsAccount:
    """A new account NAME.test with a password and an app password, as a publisher would have."""
    handle = f"{name}{HANDLE_DOMAIN}"
    password = secrets.token_urlsafe(16)
    with httpx.Client(base_url=f"{base_url}/xrpc", timeout=10.0) as http:
        made = http.post(
            "/com.atproto.server.createAccount",
            json={"handle": handle, "email": f"{name}@example.test", "password": password},
        )
        made.raise_for_status()
        signed_in = made.json()
        app = http.post(
            "/com.atproto.server.createAppPassword",
            json={"name": "wavecast"},
            headers={"Authorization": f"Bearer {signed_in['accessJwt']}"},
        )
        app.raise_for_status()
    return PdsAccount(base_url, handle, signed_in["did"], password, app.json()["password"])


@contextmanager
def running_pds(workdir: Path) -> Iterator[PdsAccount]:
    """Start the PDS with its data in WORKDIR, wait until healthy, yield an account, stop it."""
    port = free_port()
    base_url = f"http://localhost:{port}"  # the PDS's own public URL for hostname "localhost"
    data = workdir / "data"
    data.mkdir(parents=True)
    log = workdir / "pds.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            ["node", str(PDS_DIR / "serve.js"), str(data), str(port)],
            cwd=PDS_DIR,
            env=_node_env(secrets.token_urlsafe(24)),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_healthy(proc, base_url, log)
        yield create_account(base_url, "smartnation-nl")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="session", name="bluesky_pds")
def bluesky_pds_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PdsAccount]:
    """The loopback PDS, started once per test run, and its first account."""
    need(node_tools_available(), "Node.js and npm (for the Bluesky PDS peer)")
    install_node_modules()
    with running_pds(tmp_path_factory.mktemp("bluesky-pds")) as account:
        yield account
