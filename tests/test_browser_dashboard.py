"""The team's dashboard in headless Chromium: sign in, approve, send, watch it go out, read the report."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from accounts.roles import ROLES
from audiences.synthetic import generate
from campaign.db import get_engine
from tests.accounts_setup import PASSWORD, make_account
from tests.browser import browse, serious_violations, sign_in_with_password
from tests.campaign_copy import copy_campaign, edit
from tests.conftest import reset_caches
from tests.live_app import live_app
from tests.sending_setup import ALWAYS_OPEN
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


# Elements wider than their box, but for those made to clip their text (an ellipsis).
OVERFLOWING = """() => Array.from(document.querySelectorAll("body, body *"))
  .filter(e => e.scrollWidth > e.clientWidth + 1 && e.clientWidth > 0)
  .filter(e => getComputedStyle(e).textOverflow !== "ellipsis")
  .map(e => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") + (e.className ? "." + e.className : "")
            + " " + e.scrollWidth + ">" + e.clientWidth)"""


def test_the_timeline_fits_a_phone_by_month_and_by_week(chromium: str, campaign: Path) -> None:
    with live_app(campaign) as base, browse(chromium, width=390) as browsing:
        page = browsing.page
        for path in ("/timeline?month=2023-06", "/timeline?week=2023-06-12", "/timeline?month=2023-07"):
            page.goto(base + path)
            assert page.evaluate(OVERFLOWING) == [], path
            assert page.evaluate("document.documentElement.scrollWidth") <= 390, path
        # The month as an agenda: the days with a wave or a mark, one under the other, each named.
        page.goto(base + "/timeline?month=2023-06")
        first = page.locator('td[data-day="2023-06-12"]')
        assert first.is_visible() and first.locator(".wd").is_visible()
        assert first.get_by_role("link", name=re.compile("^first")).is_visible()
        assert not page.locator('td[data-day="2023-06-13"]').is_visible()  # nothing on that day
        assert not page.locator("table.calendar thead").is_visible()
    with live_app(campaign) as base, browse(chromium, width=1280) as browsing:
        browsing.page.goto(base + "/timeline?month=2023-06")
        assert browsing.page.locator('td[data-day="2023-06-13"]').is_visible()  # a week a row on a desktop
        assert browsing.page.locator("table.calendar thead").is_visible()


@pytest.mark.parametrize(("locale", "words"), [("nl-BE", "Volgende golf"), ("fr-BE", "Prochaine vague")])
def test_the_dashboard_timeline_doctor_status_and_report_in_dutch_and_french_are_accessible(
    chromium: str, campaign: Path, locale: str, words: str
) -> None:
    language = locale[:2]
    with live_app(campaign) as base:
        for width in (1280, 390):
            with browse(chromium, bypass_csp=True, width=width, locale=locale) as browsing:
                page = browsing.page
                for path in ("/", "/timeline", "/timeline?week=2023-06-12", "/doctor", "/status", "/report", "/login"):
                    page.goto(base + path)
                    assert page.locator("html").get_attribute("lang") == language, path
                    assert serious_violations(page) == [], (path, width)
                    assert page.evaluate("document.documentElement.scrollWidth") <= width, (path, width)
                page.goto(base + "/")
                assert words in page.locator("#next-wave").inner_text()


def test_the_countdown_ticks_in_the_browser_down_to_sending_now(chromium: str, campaign: Path) -> None:
    # The first wave starts 25 seconds from now (in the campaign's time zone); every day is open.
    start = (dt.datetime.now(ZoneInfo("Europe/Brussels")) + dt.timedelta(seconds=25)).replace(microsecond=0)
    yaml = campaign / "campaign.yaml"
    edit(yaml, "start: 2023-06-12T10:00:00", f"start: {start.replace(tzinfo=None).isoformat()}")
    edit(yaml, "  blackout_dates:", ALWAYS_OPEN + "  blackout_dates:")
    with live_app(campaign) as base, browse(chromium) as browsing:
        page = browsing.page
        served = page.request.get(base + "/").text()  # what a browser without scripts shows
        assert re.search(r'data-field="countdown"[^>]*>in 0 min \d+ s<', served)
        page.goto(base + "/")
        countdown = page.locator('[data-field="countdown"]')
        shown = countdown.inner_text()
        assert re.fullmatch(r"in 0 min \d+ s", shown)
        page.wait_for_function(
            "shown => document.querySelector('[data-field=countdown]').textContent !== shown", arg=shown
        )
        page.wait_for_function(
            "() => document.querySelector('[data-field=countdown]').textContent === 'sending now'", timeout=40_000
        )
        # Then the page reloads itself: the next wave is now the second one.
        page.wait_for_function(
            "() => !document.querySelector('#next-wave').textContent.includes('First')", timeout=20_000
        )
        assert "Second" in page.locator("#next-wave").inner_text()


def test_the_account_page_switches_the_app_to_dutch(chromium: str, campaign: Path) -> None:
    with live_app(campaign) as base, browse(chromium, width=390) as browsing:
        page = browsing.page
        sign_in_with_password(page, base, ANN, PASSWORD, "/account")
        assert serious_violations(page) == []
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.get_by_label("Language of the web app").select_option("nl")
        page.get_by_role("button", name="Save").click()
        page.wait_for_url(re.compile(r"/account\?done=language"))
        assert page.locator("html").get_attribute("lang") == "nl"
        assert page.get_by_role("status").inner_text() == "Uw taal is opgeslagen."
        assert serious_violations(page) == []
        page.get_by_role("link", name="wavecast").click()
        assert page.locator("#next-wave h2").inner_text() == "Volgende golf"
        assert page.get_by_role("button", name="Afmelden").is_visible()
