"""The preview in headless Chromium: switching wave and language, and the newsletters' accessibility."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.browser import browse, serious_violations, violations
from tests.campaign_copy import copy_campaign, edit
from tests.live_app import live_app

pytestmark = pytest.mark.browser

FRENCH = "Ceci est le message destiné à tout le monde, en français."


@pytest.fixture
def campaign(tmp_path: Path) -> Path:
    camp = copy_campaign(tmp_path)
    edit(camp / "messages" / "hello" / "all.fr.md", "This is the **all** message in fr.", FRENCH)
    return camp


def test_switching_wave_and_language_shows_that_language_in_the_frame(chromium: str, campaign: Path) -> None:
    with live_app(campaign) as base, browse(chromium) as browsing:
        page = browsing.page
        page.goto(f"{base}/preview")
        assert page.locator("#wave").input_value() == "first"
        with page.expect_navigation():
            page.select_option("#wave", "second")
        with page.expect_navigation():
            page.select_option("#lang", "fr")
        assert re.search(r"wave=second.*lang=fr", page.url)
        frame_element = page.locator("iframe#newsletter-citizens")
        assert frame_element.get_attribute("src") == "/preview/newsletter/second/citizens/fr"
        frame = frame_element.element_handle().content_frame()
        assert frame is not None
        frame.wait_for_load_state()
        assert frame.evaluate("document.documentElement.lang") == "fr"
        assert FRENCH in frame.inner_text("body")
        # The phone width, from the same selector, without a script-free fallback missing.
        with page.expect_navigation():
            page.select_option("#view", "phone")
        assert page.locator("iframe#newsletter-citizens").evaluate("e => e.getBoundingClientRect().width") == 375
        assert browsing.external == []


def test_a_newsletter_has_no_moderate_accessibility_violations(chromium: str, campaign: Path) -> None:
    # Two preview frames, one in dark mode, and a hosted copy ("view in browser").
    visits = (
        ("/preview/newsletter/first/citizens/fr", "light"),
        ("/preview/newsletter/first/youth/nl", "dark"),
        ("/v/mini/first/youth/de", "light"),
    )
    with live_app(campaign) as base, browse(chromium, bypass_csp=True) as browsing:
        page = browsing.page
        for path, scheme in visits:
            page.emulate_media(color_scheme=scheme)
            response = page.goto(base + path)
            assert response is not None and response.status == 200, path
            assert page.evaluate("matchMedia('(prefers-color-scheme: dark)').matches") == (scheme == "dark")
            assert violations(page) == [], (scheme, path)


def test_the_preview_page_itself_is_accessible(chromium: str, campaign: Path) -> None:
    with live_app(campaign) as base, browse(chromium, bypass_csp=True, width=375) as browsing:
        page = browsing.page
        page.goto(f"{base}/preview?wave=first&lang=fr")
        assert serious_violations(page) == []
        # Usable on a phone: nothing wider than the screen but the framed newsletter, which scrolls.
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
