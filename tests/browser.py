"""Headless Chromium for browser tests: Debian's binary, driven by Playwright, never downloaded.

Every request the page makes is watched: anything not addressed to the loopback app is
refused and recorded, so a test can assert that a page asks no other site for anything.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@dataclass
class Browsing:
    page: Any
    external: list[str] = field(default_factory=list)


@contextmanager
def browse(
    executable: str, *, bypass_csp: bool = False, width: int = 1280, locale: str | None = None
) -> Iterator[Browsing]:
    """A page in Chromium. `locale` sets the browser's language, hence its Accept-Language; left
    out, the browser's own, which a test may still replace with `page.set_extra_http_headers`."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=ARGS)
        try:
            context = browser.new_context(
                bypass_csp=bypass_csp, viewport={"width": width, "height": 900}, locale=locale
            )
            context.set_default_timeout(30_000)
            browsing = Browsing(context.new_page())

            def guard(route: Any) -> None:
                host = urlsplit(route.request.url).hostname
                if route.request.url.startswith(("data:", "about:")) or host in ("127.0.0.1", "localhost"):
                    route.continue_()
                else:
                    browsing.external.append(route.request.url)
                    route.abort()

            context.route("**/*", guard)
            yield browsing
            context.close()
        finally:
            browser.close()


def serious_violations(page: Any) -> list[str]:
    """axe-core (the copy bundled with axe-playwright-python) on the page: serious and critical findings."""
    return violations(page, ("serious", "critical"))


def violations(page: Any, impacts: tuple[str, ...] = ("moderate", "serious", "critical")) -> list[str]:
    """axe-core's findings on the page of the given impacts, moderate and worse by default."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v["impact"] in impacts
    ]


def sign_in_with_password(page: Any, base: str, email: str, password: str, then: str) -> None:
    """Through the sign-in form, landing on `then` (a path of the app) with its notice."""
    import re

    page.goto(f"{base}/login?next={then}")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(re.escape(then) + r"[?&]done=login"))
