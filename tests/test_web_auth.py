"""Authorisation of every state-changing route: no account 401, bad CSRF 403, and nothing changes;
signing in with a password, sessions that end (sign-out, idle, everywhere), backoff and lock.
The role of each route, for every role, is in tests/test_role_matrix.py."""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select, update
from starlette.exceptions import StarletteDeprecationWarning

from accounts.models import Account, WebSession
from accounts.roles import ROLES
from audiences.upsert import add_contacts
from campaign.db import get_engine
from campaign.initiative_models import InitiativeRequest
from frontends.web.app import create_app
from tests.accounts_setup import PASSWORD, account_with_token, make_account
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
ANN = "ann@example.org"


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
    reset_caches()
    account_with_token(TOKEN)
    make_account(ANN, *ROLES, password=PASSWORD)
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
        ("/waves/first/approve", {}),
        ("/waves/first/launch", {}),
        ("/waves/second/pause", {}),
        ("/waves/second/resume", {}),
        ("/waves/second/cancel", {}),
        (f"/initiatives/{site.request_id}/review", {"decision": "approve", "reason": "fits"}),
    ]


ROUTE_NAMES = ["approve", "launch", "pause", "resume", "cancel", "review"]


def _post(site: Site, index: int, **kwargs: object) -> httpx.Response:
    path, form = routes(site)[index]
    data = dict(form)
    data.update(kwargs.pop("extra", {}))  # type: ignore[arg-type]
    return site.client.post(path, data=data, follow_redirects=False, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("index", range(6), ids=ROUTE_NAMES)
def test_without_an_account_401_and_nothing_changes(site: Site, index: int) -> None:
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


def _sign_in(site: Site, email: str = ANN, password: str = PASSWORD) -> httpx.Response:
    token = csrf(site.client)
    return site.client.post(
        "/login", data={"email": email, "password": password, "csrf_token": token}, follow_redirects=False
    )


def test_signing_in_with_a_password_sets_a_session_that_authorises_actions(site: Site) -> None:
    token = csrf(site.client)
    assert _sign_in(site, password="wrong password").status_code == 401
    response = site.client.post(
        "/login", data={"email": ANN, "password": PASSWORD, "csrf_token": "bad"}, follow_redirects=False
    )
    assert response.status_code == 403 and "wavecast_session" not in response.headers.get("set-cookie", "")
    response = site.client.post(
        "/login",
        data={"email": " ANN@Example.org ", "password": PASSWORD, "csrf_token": token, "next": "//evil.example/"},
        follow_redirects=False,
    )
    assert response.status_code == 303 and response.headers["location"] == "/?done=login"
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "samesite=lax" in cookie.lower() and PASSWORD not in cookie
    assert _post(site, 0, extra={"csrf_token": token}).status_code == 303
    assert snapshot()[0] == 1
    response = site.client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303
    assert _post(site, 3, extra={"csrf_token": token}).status_code == 401


def test_a_session_unused_past_the_idle_time_is_signed_out(site: Site) -> None:
    assert _sign_in(site).status_code == 303
    token = csrf(site.client)
    with get_engine().begin() as conn:  # an hour ago, past the 30 minutes of WAVECAST_SESSION_IDLE_MINUTES
        conn.execute(update(WebSession).values(last_seen_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)))
    before = snapshot()
    assert _post(site, 2, extra={"csrf_token": token}).status_code == 401
    assert snapshot() == before


def test_sign_out_everywhere_ends_every_browser(site: Site) -> None:
    assert _sign_in(site).status_code == 303
    other = TestClient(site.client.app, client=("127.0.0.1", 50125), base_url="http://127.0.0.1")
    other_csrf = csrf(other)
    other.post("/login", data={"email": ANN, "password": PASSWORD, "csrf_token": other_csrf}, follow_redirects=False)
    token = csrf(site.client)
    assert site.client.post("/logout/everywhere", data={"csrf_token": token}, follow_redirects=False).status_code == 303
    assert other.post("/waves/second/pause", data={"csrf_token": other_csrf}).status_code == 401
    with get_engine().connect() as conn:
        assert conn.scalar(select(func.count()).select_from(WebSession).where(WebSession.ended_at.is_(None))) == 0


def test_wrong_passwords_back_off_then_lock_the_account(site: Site) -> None:
    for _ in range(5):
        assert _sign_in(site, password="not the password").status_code == 401
    refused = _sign_in(site)  # the right password, during the lock: refused alike, tells nothing
    assert refused.status_code == 401 and "not right" in refused.text
    with get_engine().connect() as conn:
        failures, locked = conn.execute(
            select(Account.failed_signins, Account.locked_until).where(Account.email == ANN)
        ).one()
    assert failures == 6 and locked is not None
    with get_engine().begin() as conn:
        conn.execute(update(Account).values(locked_until=None))
    assert _sign_in(site).status_code == 303  # once the lock is over


def test_a_revoked_token_is_refused(site: Site) -> None:
    from accounts.models import ApiToken

    with get_engine().begin() as conn:
        conn.execute(update(ApiToken).values(revoked_at=dt.datetime.now(dt.UTC)))
    token = csrf(site.client)
    response = _post(site, 2, extra={"csrf_token": token}, headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 401 and "revoked" in response.text


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
        response = client.post("/waves/first/approve", data={"csrf_token": token})
        assert response.status_code == 401
        response = client.post("/waves/first/approve", data={}, headers={"Authorization": f"Bearer {TOKEN}"})
        assert response.status_code == 403
        assert snapshot() == before
        response = client.post(
            "/waves/first/approve",
            data={"csrf_token": token},
            headers={"Authorization": f"Bearer {TOKEN}"},
        )
        assert response.status_code == 303
    assert snapshot()[0] == 1


def test_an_account_with_one_time_codes_needs_the_current_code(site: Site) -> None:
    import pyotp

    secret = pyotp.random_base32()
    with get_engine().begin() as conn:
        conn.execute(update(Account).where(Account.email == ANN).values(totp_secret=secret))
    token = csrf(site.client)
    form = {"email": ANN, "password": PASSWORD, "csrf_token": token}
    assert site.client.post("/login", data=form, follow_redirects=False).status_code == 401
    wrong = str((int(pyotp.TOTP(secret).now()) + 500_000) % 1_000_000).zfill(6)
    assert site.client.post("/login", data={**form, "code": wrong}, follow_redirects=False).status_code == 401
    right = pyotp.TOTP(secret).now()
    assert site.client.post("/login", data={**form, "code": right}, follow_redirects=False).status_code == 303


def test_over_https_the_session_cookie_is_secure(site: Site) -> None:
    secure = TestClient(site.client.app, client=("127.0.0.1", 50126), base_url="https://127.0.0.1")
    token = csrf(secure)
    response = secure.post(
        "/login", data={"email": ANN, "password": PASSWORD, "csrf_token": token}, follow_redirects=False
    )
    assert response.status_code == 303 and "secure" in response.headers["set-cookie"].lower()


def test_the_audit_page_needs_an_account_and_filters(site: Site) -> None:
    assert site.client.get("/audit").status_code == 401  # it names people: not open, even on loopback
    auth = {"Authorization": f"Bearer {TOKEN}"}
    assert _post(site, 2, headers=auth, extra={"csrf_token": csrf(site.client)}).status_code == 303
    assert _sign_in(site).status_code == 303
    page = site.client.get("/audit", params={"action": "wave."}).text
    assert "wave.pause" in page and "operator@example.org" in page and "account.signin" not in page
    page = site.client.get("/audit", params={"person": ANN}).text
    assert "account.signin" in page and "wave.pause" not in page and "The log is intact" in page
