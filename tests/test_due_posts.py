"""Posts due after their wave was launched, in the embedded default (no broker): `wavecast send`
says when they will go and which process sends them, the wave stays running, `status` says the
same, and a running `wavecast serve` publishes them when they fall due, then the wave is done.

The test does not wait a day for the posts' time: once the wave is launched it moves the posts'
due time to a second from now, as if the day had passed.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from campaign.bundle import load_bundle
from campaign.db import get_engine, session_scope, utcnow
from tests.accounts_setup import TESTER
from tests.campaign_copy import copy_campaign, edit
from tests.cli import wavecast
from tests.conftest import ROOT, free_port
from tests.sending_setup import add_contacts, always_open
from waves.approval import approve
from waves.models import Delivery, WaveRun

START = "start: 2023-06-12T10:00:00"


def posts_by_status() -> dict[str, int]:
    with get_engine().connect() as conn:
        rows = conn.execute(
            select(Delivery.status, func.count()).where(Delivery.account.isnot(None)).group_by(Delivery.status)
        ).all()
    return {status: int(count) for status, count in rows}


def run_state() -> str:
    with get_engine().connect() as conn:
        return str(conn.scalar(select(WaveRun.state)))


@pytest.mark.usefixtures("signed_in")  # the commands act as an account
def test_posts_due_later_wait_and_a_running_serve_publishes_them_when_due(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert "WAVECAST_BROKER_URL" not in os.environ  # the embedded default
    add_contacts(3)
    tomorrow = (dt.datetime.now() + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:00")
    camp = copy_campaign(tmp_path)
    edit(camp / "campaign.yaml", START, f"start: {tomorrow}")  # the posts are due tomorrow
    always_open(camp)
    bundle = load_bundle(camp)
    with session_scope() as session:
        approve(session, bundle, "first", TESTER)

    sent = wavecast(capsys, "send", str(bundle.root), "--wave", "first")

    assert sent.code == 0, sent.err
    assert "waiting until" in sent.out and "8 × x (account default) (scheduled)" in sent.out
    assert "wave first stays running until then" in sent.out
    assert "while `wavecast serve` or `wavecast scheduler` runs" in sent.out
    waiting = posts_by_status()
    assert set(waiting) == {"pending"} and run_state() == "running"
    shown = wavecast(capsys, "status", "--wave", "first")
    assert "8 × x (account default) (scheduled)" in shown.out and "wave first stays running until then" in shown.out

    with get_engine().begin() as conn:  # the day has passed: the posts are due in a second
        conn.execute(
            update(Delivery).where(Delivery.account.isnot(None)).values(not_before=utcnow() + dt.timedelta(seconds=1))
        )
    command = [sys.executable, "-m", "frontends", "serve", str(bundle.root), "--port", str(free_port())]
    serve = subprocess.Popen(
        command, cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 60
        while posts_by_status() != {"sent": waiting["pending"]} or run_state() != "done":
            assert serve.poll() is None, "wavecast serve ended"
            assert time.monotonic() < deadline, f"posts {posts_by_status()}, run {run_state()}"
            time.sleep(0.1)
    finally:
        serve.terminate()
        serve.wait(timeout=30)
    published = (Path(os.environ["WAVECAST_OUTBOX_DIR"]) / "social" / "published" / "x.jsonl").read_text()
    assert len(published.splitlines()) == waiting["pending"]  # each post once
