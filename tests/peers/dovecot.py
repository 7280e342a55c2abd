"""A real Dovecot IMAP server on loopback: Debian's `dovecot-imapd`, with a config of its own.

Everything it needs lives in a temporary folder: the config, a passwd-file with one user, the
maildir, its runtime sockets, state and log. It listens on 127.0.0.1 on a free port, without
TLS, and runs as the current user, every process of it (no chroot, no privileged login
processes), so it needs no system-wide setup. Dovecot refuses to read mail as root, so under
root (as in CI) it runs as `nobody` instead, in a folder owned by `nobody`.

Start it once per module (about 0.1 s here). `.ci/run` installs the package; under CI=true a
missing `dovecot` fails the test, elsewhere it skips with the reason.
"""

from __future__ import annotations

import grp
import imaplib
import os
import pwd
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import free_port, need, port_open

START_TIMEOUT = 20.0  # seconds; a start takes about 0.1 s here
USER = "bounces"

CONFIG = """\
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
# A refused login answers at once, and leaves no penalty that would slow the next login
# from 127.0.0.1 by seconds (the anvil-auth-penalty socket is closed below).
auth_failure_delay = 0
default_internal_user = {user}
default_internal_group = {group}
default_login_user = {user}
mail_location = maildir:{root}/mail/%u
# No chroot: an unprivileged Dovecot cannot chroot.
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {root}/users
}}
"""


@dataclass(frozen=True)
class Dovecot:
    """The running server and its one account."""

    host: str
    port: int
    user: str
    password: str

    def url(self, mailbox: str = "INBOX", *, password: str | None = None) -> str:
        return f"imap://{self.user}:{password or self.password}@{self.host}:{self.port}/{mailbox}"

    @contextmanager
    def client(self) -> Iterator[imaplib.IMAP4]:
        """A logged-in client, as a person's mail program would be."""
        conn = imaplib.IMAP4(self.host, self.port, timeout=10)
        try:
            conn.login(self.user, self.password)
            yield conn
        finally:
            conn.logout()


def dovecot_program() -> str | None:
    """Debian installs it in /usr/sbin, which a non-root PATH may not hold."""
    return shutil.which("dovecot") or shutil.which("dovecot", path="/usr/sbin:/usr/local/sbin")


def _run_as() -> tuple[int, int, str, str]:
    """uid, gid, user and group names for every Dovecot process: ours, or nobody's under root."""
    entry = pwd.getpwuid(os.getuid()) if os.getuid() != 0 else pwd.getpwnam("nobody")
    return entry.pw_uid, entry.pw_gid, entry.pw_name, grp.getgrgid(entry.pw_gid).gr_name


def _wait_listening(proc: subprocess.Popen[bytes], port: int, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"dovecot exited with {proc.returncode}:\n{_tail(log)}")
        if port_open("127.0.0.1", port):
            return
        time.sleep(0.02)  # poll interval while waiting for the port
    pytest.fail(f"dovecot did not listen on port {port} within {START_TIMEOUT:.0f} s:\n{_tail(log)}")


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-4000:] if log.exists() else "(no log)"


@contextmanager
def running_dovecot() -> Iterator[Dovecot]:
    """A Dovecot of the caller's own for the block; stopped and its folder removed afterwards."""
    program = dovecot_program()
    need(program is not None, "Debian's dovecot (apt-get install dovecot-imapd)")
    uid, gid, user, group = _run_as()
    root = Path(tempfile.mkdtemp(prefix="wavecast-dovecot-"))
    port = free_port()
    password = secrets.token_urlsafe(12)
    (root / "dovecot.conf").write_text(CONFIG.format(root=root, user=user, group=group, port=port))
    (root / "users").write_text(f"{USER}:{{PLAIN}}{password}:{uid}:{gid}::{root}/home/{USER}::\n")
    for path in (root, root / "dovecot.conf", root / "users"):
        os.chown(path, uid, gid)
    log = root / "dovecot.log"
    proc = subprocess.Popen(
        [str(program), "-F", "-c", str(root / "dovecot.conf")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        user=uid if os.getuid() == 0 else None,
        group=gid if os.getuid() == 0 else None,
        extra_groups=[] if os.getuid() == 0 else None,
        start_new_session=True,  # its own process group: stopped together, at once
    )
    try:
        _wait_listening(proc, port, log)
        yield Dovecot("127.0.0.1", port, USER, password)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(root, ignore_errors=True)
