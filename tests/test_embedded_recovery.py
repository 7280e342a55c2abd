"""The embedded default recovers on its own: after `wavecast send` is killed mid-wave, running
`wavecast send` or `wavecast resume` again finishes the wave, with no scheduler or sweeper."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from campaign.db import get_engine
from tests.cli import wavecast_process
from tests.conftest import ROOT
from tests.sending_setup import add_contacts, approved_campaign
from waves.models import Delivery

# Enough that the unpaced outbox (it reaches no relay, so no rate applies) is still writing when
# the test sees the first files and kills the send.
CONTACTS = 1500


def _statuses(posts: bool = False) -> dict[str, int]:
    """E-mail rows by status (or, with `posts`, the wave's social post rows)."""
    kind = Delivery.account.isnot(None) if posts else Delivery.account.is_(None)
    with get_engine().connect() as conn:
        rows = conn.execute(select(Delivery.status, func.count()).where(kind).group_by(Delivery.status)).all()
    return {status: int(count) for status, count in rows}


def _wait_for_files(folder: Path, count: int, proc: subprocess.Popen[bytes], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if len(list(folder.rglob("*.eml"))) >= count:
            return
        if proc.poll() is not None:
            said = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
            raise AssertionError(f"`wavecast send` ended before {count} messages were written: {said}")
        time.sleep(0.01)
    raise AssertionError(f"fewer than {count} messages written within {timeout} s")


@pytest.mark.usefixtures("signed_in")  # the command acts as an account
@pytest.mark.parametrize("again", [("send", "--wave", "first"), ("resume", "first")], ids=["send", "resume"])
def test_a_killed_send_is_finished_by_the_next_command(tmp_path: Path, again: tuple[str, ...]) -> None:
    add_contacts(CONTACTS)
    bundle = approved_campaign(tmp_path, rate=30)  # a relay's rate: the .eml outbox is not paced by it
    outbox = Path(os.environ["WAVECAST_OUTBOX_DIR"]) / "email"
    proc = subprocess.Popen(
        [sys.executable, "-m", "frontends", "send", str(bundle.root), "--wave", "first"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        _wait_for_files(outbox, 20, proc)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    stopped = _statuses()
    assert stopped.get("sent", 0) < CONTACTS, "the wave finished before it could be killed"
    args = again if again[0] == "resume" else (*again[:1], str(bundle.root), *again[1:])
    result = wavecast_process(*args, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert _statuses() == {"sent": CONTACTS}
    assert _statuses(posts=True) == {"sent": 8}  # the wave's posts were finished with it
    assert len(list(outbox.rglob("*.eml"))) == CONTACTS
    status = wavecast_process("status", "--wave", "first", "--json", cwd=tmp_path)
    assert status.returncode == 0, status.stderr
    assert '"done"' in status.stdout or "done" in status.stdout
