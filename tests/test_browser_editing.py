"""Working on the campaign in the browser (headless Chromium): a French sentence edited and seen
in the newsletter before it is saved, a save that collides with another one, and a wave dragged
onto a blackout day."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from accounts.roles import Role
from tests.accounts_setup import make_account
from tests.browser import browse, sign_in_with_password
from tests.campaign_copy import copy_campaign, edit
from tests.conftest import reset_caches
from tests.live_app import live_app

pytestmark = pytest.mark.browser
EDITOR = "editor@example.org"
PASSWORD = "correct horse battery staple"
FR = "messages/hello/all.fr.md"


@pytest.fixture
def campaign(tmp_path: Path) -> Path:
    reset_caches()
    make_account(EDITOR, Role.EDITOR, password=PASSWORD)
    return copy_campaign(tmp_path)


def _log_in(page: Any, base: str, then: str) -> None:
    sign_in_with_password(page, base, EDITOR, PASSWORD, then)


def test_a_french_sentence_shows_in_the_newsletter_before_it_is_saved(chromium: str, campaign: Path) -> None:
    saved = (campaign / FR).read_text()
    with live_app(campaign) as base, browse(chromium) as browsing:
        page = browsing.page
        _log_in(page, base, "/edit/first/citizens/fr")
        area = page.get_by_label(re.compile("Front matter"))
        area.fill(saved.replace("This is the **all** message in fr.", "Voici une phrase toute neuve."))
        desktop = page.frame_locator("#frame-desktop")
        desktop.get_by_text("Voici une phrase toute neuve.").wait_for()  # rendered as typed, not saved
        assert page.frame_locator("#frame-phone").get_by_text("Voici une phrase toute neuve.").count() == 1
        assert (campaign / FR).read_text() == saved

        area.fill(saved.replace("This is the **all** message in fr.", "{% if %}"))
        page.locator("#problems").get_by_text(re.compile(r"line \d+, column \d+")).wait_for()
        area.fill(saved.replace("This is the **all** message in fr.", "Voici une phrase toute neuve."))
        page.locator("#problems").get_by_text("No problem found.").wait_for()
        page.get_by_role("button", name="Save").click()
        page.wait_for_url(re.compile(r"\?done=saved"))
        assert "Voici une phrase toute neuve." in (campaign / FR).read_text()
        assert browsing.external == []


def test_the_second_of_two_saves_shows_the_first_change_and_keeps_its_text(chromium: str, campaign: Path) -> None:
    with live_app(campaign) as base, browse(chromium) as browsing:
        first = browsing.page
        _log_in(first, base, "/edit/first/citizens/fr")
        second = first.context.new_page()
        second.goto(f"{base}/edit/first/citizens/fr")  # both opened the same version
        opened = (campaign / FR).read_text()

        first.get_by_label(re.compile("Front matter")).fill(opened.replace("Read more", "Lire la suite"))
        first.get_by_role("button", name="Save").click()
        first.wait_for_url(re.compile(r"\?done=saved"))

        mine = opened.replace("This is the **all** message in fr.", "Mon texte à moi.")
        second.get_by_label(re.compile("Front matter")).fill(mine)
        second.get_by_role("button", name="Save").click()
        conflict = second.get_by_role("alert")
        conflict.wait_for()
        assert "someone saved this file" in conflict.inner_text() and "Lire la suite" in conflict.inner_text()
        assert second.get_by_label(re.compile("Front matter")).input_value() == mine  # never lost
        assert "Lire la suite" in (campaign / FR).read_text() and "Mon texte" not in (campaign / FR).read_text()


def test_a_wave_dragged_onto_a_blackout_day_stays_where_it_was(chromium: str, campaign: Path) -> None:
    edit(
        campaign / "campaign.yaml",
        "    - {date: 2023-07-21, name: Nationale feestdag}",
        "    - {date: 2023-06-14, name: Teamdag}\n    - {date: 2023-07-21, name: Nationale feestdag}",
    )
    before = (campaign / "campaign.yaml").read_text()
    with live_app(campaign) as base, browse(chromium) as browsing:
        page = browsing.page
        _log_in(page, base, "/timeline?month=2023-06")
        assert "Teamdag" in page.locator('td[data-day="2023-06-14"]').inner_text()
        page.locator('[draggable=true][data-wave="first"]').drag_to(page.locator('td[data-day="2023-06-14"]'))
        page.get_by_text("a blackout date (Teamdag)").wait_for()
        assert (campaign / "campaign.yaml").read_text() == before

        page.goto(f"{base}/timeline?month=2023-06")
        page.locator('[draggable=true][data-wave="first"]').drag_to(page.locator('td[data-day="2023-06-13"]'))
        page.wait_for_url(re.compile(r"done=moved"))
        assert "first" in page.locator('td[data-day="2023-06-13"]').inner_text()
        assert "start: 2023-06-13T10:00" in (campaign / "campaign.yaml").read_text()
