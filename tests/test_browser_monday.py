"""Monday morning in a real browser: the dashboard says what waits, the second approver approves
from there, the wave is sent and its status and results come back to the dashboard."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from accounts.roles import Role
from audiences.synthetic import generate
from campaign.bundle import load_bundle
from campaign.db import session_scope
from tests.accounts_setup import make_account
from tests.browser import browse, serious_violations, sign_in_with_password
from tests.campaign_copy import copy_campaign, edit
from tests.conftest import reset_caches
from tests.live_app import live_app
from waves.approval import approve

pytestmark = pytest.mark.browser
PASSWORD = "correct horse battery staple"
ANN, LUC = "ann.peeters@example.org", "luc.dubois@example.org"


def test_monday_morning_dashboard_approve_as_the_second_person_then_status(chromium: str, tmp_path: Path) -> None:
    camp = copy_campaign(tmp_path)
    edit(camp / "campaign.yaml", "  languages: [nl, fr, de, en]\n", "  languages: [nl, fr, de, en]\n  approvals: 2\n")
    reset_caches()
    generate(40, seed=3, today=dt.date(2023, 6, 12))
    ann = make_account(ANN, Role.APPROVER)[0]
    make_account(LUC, Role.APPROVER, Role.OPERATOR, password=PASSWORD)
    with session_scope() as session:
        approve(session, load_bundle(camp), "first", ann)  # Ann approved on Friday
    with live_app(camp) as base, browse(chromium) as browsing:
        page = browsing.page
        sign_in_with_password(page, base, LUC, PASSWORD, "/?as_of=2023-06-12")

        next_wave = page.locator("#next-wave")
        assert "First" in next_wave.inner_text() and "in 10 h 0 min" in next_wave.inner_text()
        waiting = page.locator("#approvals")
        assert "1 of 2" in waiting.inner_text() and ANN in waiting.inner_text()
        assert serious_violations(page) == []

        waiting.get_by_role("link", name="1 of 2").first.click()  # every number leads to its page
        page.wait_for_url(re.compile(r"/plan#wave-first"))
        page.locator("#wave-first").get_by_role("button", name="Approve first").click()
        page.wait_for_url(re.compile(r"/plan\?done=approved"))
        assert page.locator("#wave-first [data-state]").inner_text() == "approved"

        page.locator("#wave-first").get_by_role("button", name="Send first now").click()
        page.wait_for_url(re.compile(r"/status\?done=launched"))
        page.wait_for_function(
            """() => { const s = document.querySelector('#run-first [data-field="state"]');
                       return s && s.textContent.trim() === 'done'; }""",
            timeout=60_000,
        )
        page.goto(f"{base}/")
        results = page.locator("#last-results")
        assert "first" in results.inner_text() and "done" in results.inner_text()
        delivered = page.locator('td[data-label="Delivered"]').all_inner_texts()
        assert sum(int(n.replace(",", "")) for n in delivered) > 0
        assert browsing.external == []
