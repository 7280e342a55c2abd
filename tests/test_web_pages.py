"""The dashboard's pages, its JSON, `wavecast serve`, and 4xx (never 500) on bad input everywhere."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import insert
from starlette.exceptions import StarletteDeprecationWarning

from audiences.upsert import add_contacts
from campaign.db import get_engine, utcnow
from frontends.web.app import create_app
from tests.accounts_setup import account_with_token
from tests.campaign_copy import copy_campaign, edit
from tests.conftest import ROOT, free_port, port_open, reset_caches
from tests.web_rows import pending_request
from waves.models import Delivery, WaveRun
from waves.status import all_status

with warnings.catch_warnings():
    # Starlette asks for its httpx fork; the released httpx it warns about works the same here.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

TOKEN = "page-test-token"


@pytest.fixture
def campaign(tmp_path: Path) -> Path:
    return copy_campaign(tmp_path)


@pytest.fixture
def client(database_url: str, campaign: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    reset_caches()
    account_with_token(TOKEN)  # every role: these tests are about pages, not about who may act
    with TestClient(
        create_app(campaign), client=("127.0.0.1", 50300), base_url="http://127.0.0.1", raise_server_exceptions=False
    ) as test_client:
        yield test_client


def _sending_run() -> int:
    """A run of wave `first` part-way: two rows sent, one pending."""
    ids = add_contacts([{"email": f"p{i}@example.org", "language": "nl", "birth_year": 1990} for i in range(3)])
    now = utcnow()
    with get_engine().begin() as conn:
        run_id = int(
            conn.execute(
                insert(WaveRun).values(
                    run_key="mini:first",
                    campaign_id="mini",
                    wave_id="first",
                    campaign_dir="x",
                    content_hash="h" * 64,
                    state="running",
                    launched_by="test",
                    created_at=now,
                    updated_at=now,
                )
            ).inserted_primary_key[0]
        )
        conn.execute(
            insert(Delivery),
            [
                {
                    "run_id": run_id,
                    "contact_id": cid,
                    "channel": "newsletter",
                    "message_id": "all",
                    "audience_id": "citizens",
                    "language": "nl",
                    "status": status,
                    "attempts": 0,
                }
                for cid, status in zip(ids, ("sent", "sent", "pending"), strict=True)
            ],
        )
    return run_id


def test_plan_shows_waves_with_local_time_state_and_approvals(client: TestClient) -> None:
    html = client.get("/plan").text
    assert "Mon 12 Jun 2023, 10:00 CEST" in html and "Mon 19 Jun 2023, 11:00 CEST" in html
    assert html.count('data-state="awaiting approval"') == 2
    assert "0 of 1" in html
    assert html.count('name="csrf_token"') >= 2


def test_status_page_and_json_show_what_wavecast_status_shows(client: TestClient) -> None:
    _sending_run()
    with get_engine().connect() as conn:
        expected = all_status(conn)
    assert client.get("/api/status").json() == expected
    html = client.get("/status").text
    assert 'data-total="sent">2<' in html and 'data-total="pending">1<' in html
    assert "Pause first" in html
    assert 'fetch("/api/status"' in html


def test_report_page_has_three_charts(client: TestClient) -> None:
    _sending_run()
    page = client.get("/report")
    assert page.status_code == 200
    assert page.text.count("<svg") == 3
    assert "p0@example.org" not in page.text
    assert client.get("/report", params={"wave": "second"}).status_code == 200
    assert client.get("/report", params={"wave": "nope"}).status_code == 404


def test_initiatives_page_shows_the_queue_without_contact_addresses(client: TestClient) -> None:
    with get_engine().begin() as conn:
        pending_request(conn, organisation="Code for Belgium", contact_email="jane@example.net")
    html = client.get("/initiatives").text
    assert "Review queue (1)" in html and "Code for Belgium" in html and "1. Skills" in html
    assert "jane@example.net" not in html


def test_unknown_routes_are_404_and_the_schema_lists_every_route(client: TestClient) -> None:
    assert client.get("/no/such/page").status_code == 404
    schema = client.get("/openapi.json").json()
    for path in (
        "/plan",
        "/status",
        "/api/status",
        "/report",
        "/initiatives",
        "/preview",
        "/c/{token}",
        "/waves/{wave_id}/approve",
        "/waves/{wave_id}/launch",
        "/initiatives/{request_id}/review",
        "/preview/{channel}/{wave_id}/{audience_id}/{lang}",
        "/assets/{campaign_id}/{path}",
    ):
        assert path in schema["paths"], path


BAD = [
    "",
    "x" * 3000,
    "%00",
    "..%2F..%2Fetc%2Fpasswd",
    "'; DROP TABLE contacts; --",
    "<script>",
    "é€😀",
    "-1",
    "99999999999999999999999",
]


def test_every_route_answers_bad_input_with_4xx_never_500(client: TestClient) -> None:
    _sending_run()
    auth = {"Authorization": f"Bearer {TOKEN}"}
    csrf = client.get("/api/csrf").json()["csrf_token"]
    schema = client.get("/openapi.json").json()
    checked = 0
    for template, methods in schema["paths"].items():
        for method in methods:
            for bad in BAD:
                path = template
                for name in ("wave_id", "audience_id", "lang", "request_id", "token", "campaign_id", "path"):
                    path = path.replace("{" + name + "}", bad or "x")
                for headers, data in (
                    ({}, {"by": bad, "reason": bad, "decision": bad, "token": bad}),
                    (auth, {"by": bad, "reason": bad, "decision": bad, "csrf_token": csrf}),
                    (auth, {"csrf_token": bad}),
                ):
                    response = client.request(
                        method.upper(),
                        path,
                        headers=headers,
                        params={"wave": bad, "lang": bad, "view": bad, "next": bad},
                        data=data if method == "post" else None,
                        follow_redirects=False,
                    )
                    assert response.status_code < 500, (method, path, response.status_code, response.text[:300])
                    assert "Traceback" not in response.text
                    checked += 1
            for body, kind in (
                (b"\xff\xfe", "application/x-www-form-urlencoded"),
                (b"--x\r\nbroken", "multipart/form-data; boundary=x"),
                (b"{}", "application/json"),
            ):
                response = client.request(
                    method.upper(),
                    template.replace("{", "").replace("}", ""),
                    content=body,
                    headers={"content-type": kind, **auth},
                )
                assert response.status_code < 500, (method, template, response.status_code, response.text[:300])
    assert checked > 300


def test_wavecast_serve_binds_loopback_and_follows_edits(database_url: str, campaign: Path) -> None:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-m", "frontends", "serve", str(campaign), "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
    )
    try:
        deadline = time.monotonic() + 30
        while not port_open("127.0.0.1", port):
            assert process.poll() is None and time.monotonic() < deadline, process.communicate()[1]
            time.sleep(0.05)
        base = f"http://127.0.0.1:{port}"
        assert "Hello all (nl)" in httpx.get(f"{base}/preview").text
        edit(campaign / "messages" / "hello" / "all.nl.md", 'subject: "Hello all (nl)"', 'subject: "Hallo allemaal"')
        assert "Hallo allemaal" in httpx.get(f"{base}/preview").text
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_serve_refuses_a_directory_without_a_campaign(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tests.cli import wavecast

    result = wavecast(capsys, "serve", str(tmp_path))
    assert result.code == 1 and "not a campaign directory" in result.err
