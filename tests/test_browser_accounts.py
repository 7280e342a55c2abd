"""Four eyes in a real browser: two people, signed in with a password and with single sign-on
(a real OpenID Connect provider on loopback). The same person cannot approve twice, not under
another spelling, not from another session; a second person's approval makes the wave approved."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from accounts.roles import Role
from campaign.db import session_scope
from tests.accounts_setup import PASSWORD, make_account
from tests.browser import browse, sign_in_with_password
from tests.campaign_copy import copy_campaign, edit
from tests.conftest import free_port, reset_caches
from tests.live_app import live_app
from tests.peers.oidc_provider import running_provider
from waves.approval import approval_state

pytestmark = pytest.mark.browser
ANN, BOB = "ann.peeters@example.org", "bob.janssens@example.org"


def _with_password(page: Any, base: str, email: str) -> None:
    sign_in_with_password(page, base, email, PASSWORD, "/plan")


def _with_single_sign_on(page: Any, base: str, login: str) -> None:
    page.goto(f"{base}/login?next=/plan")
    page.get_by_role("link", name="Sign in with your organisation").click()
    page.locator("input[name=login]").fill(login)  # the provider's own page, not ours
    page.locator("input[name=password]").fill("anything")
    page.get_by_role("button", name="Sign-in").click()
    page.get_by_role("button", name="Continue").click()  # the provider asks to share the address
    page.wait_for_url(re.compile(r"/plan\?done=login"))


def _new_browser(page: Any) -> Any:
    """Another browser profile (its own cookies: another session), kept on loopback like the
    first: the provider's page imports a web font that must not be fetched."""
    context = page.context.browser.new_context()
    context.route(
        "**/*", lambda route: route.continue_() if route.request.url.startswith("http://127.0.0.1") else route.abort()
    )
    context.set_default_timeout(30_000)
    return context


def _approve(page: Any) -> str:
    page.locator("#wave-first").get_by_role("button", name="Approve first").click()
    page.wait_for_load_state()
    return str(page.locator("main").inner_text())


def test_two_people_approve_one_cannot_twice(chromium: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    camp = copy_campaign(tmp_path)
    edit(camp / "campaign.yaml", "  languages: [nl, fr, de, en]\n", "  languages: [nl, fr, de, en]\n  approvals: 2\n")
    port = free_port()
    with running_provider(tmp_path, f"http://127.0.0.1:{port}/login/oidc/callback") as provider:
        for name, value in provider.settings().items():
            monkeypatch.setenv(name, value)
        reset_caches()
        make_account(ANN, Role.APPROVER, password=PASSWORD)
        make_account(BOB, Role.APPROVER)  # no password: single sign-on only
        with live_app(camp, port) as base, browse(chromium) as browsing:
            page = browsing.page
            _with_password(page, base, ANN)
            assert "Your approval was recorded" in _approve(page)
            # Another session (a fresh browser context), another spelling at the provider: still Ann.
            second = _new_browser(page)
            again = second.new_page()
            _with_single_sign_on(again, base, " Ann.Peeters@EXAMPLE.org")
            refused = _approve(again)
            assert "ann.peeters@example.org already approved" in refused
            second.close()
            third = _new_browser(page)
            bob = third.new_page()
            _with_single_sign_on(bob, base, BOB)
            assert "Your approval was recorded" in _approve(bob)
            assert bob.locator("#wave-first [data-state]").inner_text() == "approved"
            third.close()
    from campaign.bundle import load_bundle

    with session_scope() as session:
        state = approval_state(session, load_bundle(camp), "first")
    assert state.valid and state.approvers == (ANN, BOB)
