"""The team's dashboard in headless Chromium: sign in, approve, send, watch it go out, read the report."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from accounts.roles import ROLES
from audiences.synthetic import generate
from campaign.db import get_engine
from tests.accounts_setup import PASSWORD, make_account
from tests.browser import browse, serious_violations
from tests.campaign_copy import copy_campaign
from tests.conftest import reset_caches
from tests.live_app import live_app
from waves.status import all_status

pytestmark = pytest.mark.browser
ANN = "ann.peeters@example.org"
CONTACTS = 300


@pytest.fixture
def campaign(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    reset_caches()
    make_account(ANN, *ROLES, password=PASSWORD)  # every role: these tests are about pages, not who may act
    generate(CONTACTS, seed=7, today=dt.date(2023, 6, 12))  # ages as of the first wave
    return copy_campaign(tmp_path)  # needs one approval


def test_approve_send_watch_and_report(chromium: str, campaign: Path) -> None:
    with live_app(campaign) as base, browse(chromium) as browsing:
        page = browsing.page
        page.goto(f"{base}/plan")
        wave = page.locator("#wave-first")
        assert wave.locator("[data-state]").inner_text() == "awaiting approval"

        page.get_by_role("link", name="Sign in", exact=True).click()
        page.get_by_label("E-mail address").fill(ANN)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(re.compile(r"/plan\?done=login"))
        assert page.get_by_role("button", name="Sign out").is_visible()

        wave.get_by_role("button", name="Approve first").click()
        page.wait_for_url(re.compile(r"/plan\?done=approved"))
        assert wave.locator("[data-state]").inner_text() == "approved"
        assert ANN in wave.inner_text()

        wave.get_by_role("button", name="Send first now").click()
        page.wait_for_url(re.compile(r"/status\?done=launched"))
        run = page.locator("#run-first")
        run.wait_for()
        # The page polls /api/status; the counts grow until every row is sent.
        page.wait_for_function(
            """() => { const s = document.querySelector('#run-first [data-field="state"]');
                       return s && s.textContent.trim() === 'done'; }""",
            timeout=60_000,
        )
        with get_engine().connect() as conn:
            [status] = all_status(conn, "first")
        sent = run.locator('[data-total="sent"]').inner_text()
        assert int(sent) == status["totals"]["sent"] > 0
        assert int(run.locator('[data-total="pending"]').inner_text()) == 0

        page.get_by_role("link", name="Report").click()
        page.wait_for_url(re.compile(r"/report$"))
        assert page.locator("figure.chart svg").count() == 3
        assert page.locator("#chart-reach svg").is_visible()
        assert "No newsletter has been sent yet" not in page.locator("#chart-reach").inner_text()
        assert browsing.external == []


def test_dashboard_pages_are_accessible(chromium: str, campaign: Path) -> None:
    with live_app(campaign) as base, browse(chromium, bypass_csp=True, width=375) as browsing:
        page = browsing.page
        for path in (
            "/",
            "/plan",
            "/timeline",
            "/timeline?week=2023-06-12",
            "/doctor",
            "/status",
            "/report",
            "/initiatives",
            "/login",
        ):
            page.goto(base + path)
            assert serious_violations(page) == [], path
            assert page.evaluate("document.documentElement.scrollWidth") <= 375, path
