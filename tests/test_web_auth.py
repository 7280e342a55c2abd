"""Authorisation of every state-changing route: no token 401, bad CSRF 403, and nothing changes."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select, update
from starlette.exceptions import StarletteDeprecationWarning

from audiences.upsert import add_contacts
from campaign.db import get_engine
from campaign.initiative_models import InitiativeRequest
from frontends.web.app import create_app
from tests.campaign_copy import copy_campaign
from tests.conftest import reset_caches
from tests.live_app import live_app
from tests.web_rows import pending_request, sending_run
from waves.models import Approval, WaveRun

with warnings.catch_warnings():
    # Starlette asks for its httpx fork; the released httpx it warns about works the same here.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

TOKEN = "operator-secret-for-tests"


@dataclass
class Site:
    client: TestClient
    campaign: Path
    request_id: int


def snapshot() -> tuple[object, ...]:
    """Everything an action could change."""
    with get_engine().connect() as conn:
        approvals = conn.scalar(select(func.count()).select_from(Approval))
        runs = tuple(conn.execute(select(WaveRun.wave_id, WaveRun.state).order_by(WaveRun.id)).all())
        requests = tuple(conn.execute(select(InitiativeRequest.status, InitiativeRequest.contact_email)).all())
    return approvals, runs, requests


@pytest.fixture
def site(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Site]:
    monkeypatch.setenv("WAVECAST_ADMIN_TOKEN", TOKEN)
    reset_caches()
    camp = copy_campaign(tmp_path)
    add_contacts([{"email": f"reader{i}@example.org", "language": "nl", "birth_year": 1990} for i in range(3)])
    with get_engine().begin() as conn:
        sending_run(conn, camp)
        request_id = pending_request(conn)
    with TestClient(create_app(camp), client=("127.0.0.1", 50123), base_url="http://127.0.0.1") as client:
        yield Site(client, camp, int(request_id))


def csrf(client: TestClient) -> str:
    """A CSRF token; the client keeps the matching cookie."""
    return str(client.get("/api/csrf").json()["csrf_token"])


def routes(site: Site) -> list[tuple[str, dict[str, str]]]:
    return [
        ("/waves/first/approve", {"by": "Ann"}),
        ("/waves/first/launch", {}),
        ("/waves/second/pause", {}),
        ("/waves/second/resume", {}),
        ("/waves/second/cancel", {}),
        (f"/initiatives/{site.request_id}/review", {"decision": "approve", "reason": "fits", "by": "Ann"}),
    ]


ROUTE_NAMES = ["approve", "launch", "pause", "resume", "cancel", "review"]


def _post(site: Site, index: int, **kwargs: object) -> httpx.Response:
    path, form = routes(site)[index]
    data = dict(form)
    data.update(kwargs.pop("extra", {}))  # type: ignore[arg-type]
    return site.client.post(path, data=data, follow_redirects=False, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("index", range(6), ids=ROUTE_NAMES)
def test_without_the_operator_token_401_and_nothing_changes(site: Site, index: int) -> None:
    token = csrf(site.client)
    before = snapshot()
    response = _post(site, index, extra={"csrf_token": token})
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    response = _post(site, index, extra={"csrf_token": token}, headers={"Authorization": "Bearer wrong"})
    assert response.status_code == 401
    assert snapshot() == before


@pytest.mark.parametrize("index", range(6), ids=ROUTE_NAMES)
def test_with_a_missing_or_forged_csrf_token_403_and_nothing_changes(site: Site, index: int) -> None:
    auth = {"Authorization": f"Bearer {TOKEN}"}
    csrf(site.client)
    before = snapshot()
    assert _post(site, index, headers=auth).status_code == 403
    assert _post(site, index, headers=auth, extra={"csrf_token": "forged"}).status_code == 403
    other = TestClient(site.client.app, client=("127.0.0.1", 50124), base_url="http://127.0.0.1")
    foreign = csrf(other)  # signed by us, but for another browser's cookie
    assert _post(site, index, headers=auth, extra={"csrf_token": foreign}).status_code == 403
    assert snapshot() == before


def test_without_an_admin_token_configured_nothing_can_change(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WAVECAST_ADMIN_TOKEN")
    from campaign.settings import get_settings

    get_settings.cache_clear()
    token = csrf(site.client)
    before = snapshot()
    response = _post(site, 0, headers={"Authorization": f"Bearer {TOKEN}"}, extra={"csrf_token": token})
    assert response.status_code == 403
    assert snapshot() == before


def test_with_token_and_csrf_each_action_does_its_job(site: Site) -> None:
    auth = {"Authorization": f"Bearer {TOKEN}"}
    token = csrf(site.client)

    def post(index: int) -> httpx.Response:
        return _post(site, index, headers=auth, extra={"csrf_token": token})

    assert post(0).status_code == 303
    assert snapshot()[0] == 1
    assert post(1).status_code == 303  # launched after the response (in-process here)
    assert ("first", "done") in snapshot()[1]
    assert post(2).status_code == 303
    assert ("second", "paused") in snapshot()[1]
    assert post(3).status_code == 303
    # Embedded default: resuming sends what was left in-process (nothing here), so the wave is done.
    assert ("second", "done") in snapshot()[1]
    with get_engine().begin() as conn:  # sending again, so that cancel has something to stop
        conn.execute(update(WaveRun).where(WaveRun.wave_id == "second").values(state="running"))
    assert post(4).status_code == 303
    assert ("second", "cancelled") in snapshot()[1]
    response = post(5)
    assert response.status_code == 200
    assert "org@example.net" in response.text  # shown once to the reviewer, then deleted
    assert snapshot()[2] == (("approved", None),)
    response = post(5)
    assert response.status_code == 400 and "a decision is final" in response.text


def test_login_form_sets_a_cookie_that_authorises_actions(site: Site) -> None:
    token = csrf(site.client)
    response = site.client.post("/login", data={"token": "wrong", "csrf_token": token}, follow_redirects=False)
    assert response.status_code == 401
    response = site.client.post("/login", data={"token": TOKEN, "csrf_token": "bad"}, follow_redirects=False)
    assert response.status_code == 403 and "wavecast_operator" not in response.headers.get("set-cookie", "")
    response = site.client.post(
        "/login", data={"token": TOKEN, "csrf_token": token, "next": "//evil.example/"}, follow_redirects=False
    )
    assert response.status_code == 303 and response.headers["location"] == "/?done=login"
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "samesite=strict" in cookie.lower() and TOKEN not in cookie
    assert _post(site, 0, extra={"csrf_token": token}).status_code == 303
    assert snapshot()[0] == 1
    response = site.client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303
    assert _post(site, 0, extra={"csrf_token": token, "by": "Bob"}).status_code == 401


def test_changing_the_admin_token_logs_browsers_out(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    token = csrf(site.client)
    site.client.post("/login", data={"token": TOKEN, "csrf_token": token}, follow_redirects=False)
    monkeypatch.setenv("WAVECAST_ADMIN_TOKEN", "a-new-token")
    from campaign.settings import get_settings

    get_settings.cache_clear()
    assert _post(site, 0, extra={"csrf_token": token}).status_code == 401


def test_reading_is_open_on_loopback_only(site: Site) -> None:
    assert site.client.get("/plan").status_code == 200
    # A page elsewhere that points its own name at 127.0.0.1 (DNS rebinding) reads nothing.
    assert site.client.get("/plan", headers={"Host": "evil.example:8000"}).status_code == 401
    remote = TestClient(site.client.app, client=("192.0.2.10", 40000))
    for path in ("/", "/plan", "/status", "/api/status", "/report", "/initiatives", "/preview"):
        assert remote.get(path).status_code == 401, path
        assert remote.get(path, headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200, path


def test_get_on_an_action_changes_nothing(site: Site) -> None:
    before = snapshot()
    for path, _form in routes(site):
        assert site.client.get(path).status_code == 405
    assert snapshot() == before


def test_actions_through_a_real_server(site: Site) -> None:
    before = snapshot()
    with live_app(site.campaign) as base, httpx.Client(base_url=base, follow_redirects=False) as client:
        token = client.get("/api/csrf").json()["csrf_token"]
        response = client.post("/waves/first/approve", data={"by": "Ann", "csrf_token": token})
        assert response.status_code == 401
        response = client.post("/waves/first/approve", data={"by": "Ann"}, headers={"Authorization": f"Bearer {TOKEN}"})
        assert response.status_code == 403
        assert snapshot() == before
        response = client.post(
            "/waves/first/approve",
            data={"by": "Ann", "csrf_token": token},
            headers={"Authorization": f"Bearer {TOKEN}"},
        )
        assert response.status_code == 303
    assert snapshot()[0] == 1
