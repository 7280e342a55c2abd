"""A person's whole way in and out, in each language, in Debian's chromium against a real
`wavecast serve` whose mail goes to a real SMTP server on loopback: subscribe, read the
confirmation mail, confirm, change preferences, unsubscribe with one click. At each step the
forecast says what that person will receive. The pages are checked with axe and at 320 px."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest

from tests.browser import browse, serious_violations
from tests.cli import wavecast
from tests.conftest import SMARTNATION, free_port, reset_caches
from tests.smtp_sink import SmtpSink
from tests.waiting import wait_for

# One server for the module: its tests share one test process.
pytestmark = pytest.mark.xdist_group("subscribe_serve")
LINK = re.compile(r"https?://\S+/subscribe/confirm/\S+")
# What each step's page says, per language (the campaign says "je" in Dutch).
SAYS = {
    "nl": ("Bekijk je mailbox", "Je bent ingeschreven", "Bewaard.", "Je bent al uitgeschreven"),
    "fr": ("Consultez votre boîte mail", "Vous êtes inscrit·e", "Enregistré.", "Vous êtes déjà désinscrit·e"),
    "de": ("Sehen Sie in Ihr Postfach", "Sie sind angemeldet", "Gespeichert.", "Sie sind bereits abgemeldet"),
    "en": ("Check your mailbox", "You are subscribed", "Saved.", "You are already unsubscribed"),
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, SmtpSink, dict[str, str]]]:
    """One `wavecast serve` of the example campaign for the module, in a child process, its relay
    an SMTP sink; yields its address, the sink and the settings it runs with."""
    folder = tmp_path_factory.mktemp("served")
    sink = SmtpSink()
    sink.start()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    settings = {
        "WAVECAST_DATABASE_URL": f"sqlite:///{folder / 'wavecast.db'}",
        "WAVECAST_OUTBOX_DIR": str(folder / "outbox"),
        "WAVECAST_SECRET_KEY": "browser-test-secret",
        "WAVECAST_ALLOW_INSECURE_RELAY": "1",
        "WAVECAST_SMTP_URL": sink.url,
        "WAVECAST_BASE_URL": base,
    }
    env = {k: v for k, v in os.environ.items() if not k.startswith("WAVECAST_") or k.startswith("WAVECAST_TEST_")}
    server = subprocess.Popen(
        [sys.executable, "-m", "frontends", "serve", str(SMARTNATION), "--port", str(port)],
        cwd=folder,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**env, **settings},
    )

    def answers() -> bool:
        assert server.poll() is None, "wavecast serve stopped"
        try:
            return httpx.get(f"{base}/subscribe", timeout=2).status_code == 200
        except httpx.TransportError:
            return False

    try:
        wait_for(answers, "wavecast serve to answer")
        yield base, sink, settings
    finally:
        server.terminate()
        server.wait(timeout=30)
        sink.stop()


@pytest.fixture
def served(server: tuple[str, SmtpSink, dict[str, str]], monkeypatch: pytest.MonkeyPatch) -> tuple[str, SmtpSink]:
    """The module's server, and this test's commands (forecast) on its database."""
    base, sink, settings = server
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    reset_caches()
    return base, sink


def mail_for(capsys: pytest.CaptureFixture[str], lang: str) -> dict[str, int]:
    """Per wave, the e-mails in `lang` the next `forecast` says go out (the database holds only
    the people of this test, one per language)."""
    result = wavecast(capsys, "forecast", str(SMARTNATION), "--json")
    assert result.code == 0, result.err
    return {
        w["id"]: sum(c["count"] for c in w["counts"] if c["channel"] == "newsletter" and c["language"] == lang)
        for w in json.loads(result.out)["waves"]
    }


def confirmation_link(sink: SmtpSink, address: str) -> str:
    wait_for(lambda: address in sink.by_recipient(), f"the confirmation mail to {address}")
    [received] = sink.by_recipient()[address]
    text = received.parsed().get_content()
    [link] = LINK.findall(text)
    return urlsplit(link).path


def test_subscribe_confirm_change_and_unsubscribe_in_every_language(
    chromium: str, served: tuple[str, SmtpSink], capsys: pytest.CaptureFixture[str]
) -> None:
    base, sink = served
    with browse(chromium) as browsing:
        page = browsing.page
        for lang, (sent, confirmed, saved, gone) in SAYS.items():
            address = f"reader.{lang}@example.org"
            page.set_extra_http_headers({"Accept-Language": f"{lang}-BE,{lang};q=0.9"})
            page.goto(f"{base}/subscribe")
            assert page.get_attribute("html", "lang") == lang  # from Accept-Language
            if lang == "nl":
                assert serious_violations(page) == []
            page.fill("#email", address)
            page.fill("#first_name", "Robin")
            page.check("input[name=interests][value=company]")
            page.click("form button[type=submit]")
            assert sent in page.inner_text("main")
            assert sum(mail_for(capsys, lang).values()) == 0  # nothing counts before the link

            page.goto(base + confirmation_link(sink, address))
            page.click("form button[type=submit]")
            assert confirmed in page.inner_text("main")
            mail = mail_for(capsys, lang)
            assert (mail["launch"], mail["companies"], mail["women"]) == (1, 1, 0)

            page.click("main a[href*='/preferences']")
            if lang == "nl":
                assert serious_violations(page) == []
            page.uncheck("input[name=interests][value=company]")
            page.check("input[name=interests][value=women-in-digital]")
            page.click("form[action*='/preferences'] button")
            assert saved in page.inner_text("main")
            mail = mail_for(capsys, lang)
            assert (mail["launch"], mail["companies"], mail["women"]) == (1, 0, 1)

            # The mail client's one click (RFC 8058): a POST without cookie or page.
            token = urlsplit(page.url).path.split("/")[2]
            one_click = httpx.post(
                f"{base}/u/{token}",
                content="List-Unsubscribe=One-Click",
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
            assert one_click.status_code == 200
            assert sum(mail_for(capsys, lang).values()) == 0
            page.goto(f"{base}/u/{token}")
            assert gone in page.inner_text("main")
            if lang == "nl":
                assert serious_violations(page) == []
            assert page.locator(f"form[action^='/u/{token}/leave-all'] button").count() == 1  # "everything", next
        assert browsing.external == []


def test_the_pages_work_at_320_pixels(chromium: str, served: tuple[str, SmtpSink]) -> None:
    base, sink = served
    with browse(chromium, width=320) as browsing:
        page = browsing.page
        page.goto(f"{base}/subscribe?lang=fr")
        wide = page.evaluate("document.documentElement.scrollWidth")
        assert wide <= 320, f"the subscribe page is {wide} px wide"
        page.fill("#email", "small.screen@example.org")
        page.click("form button[type=submit]")
        page.goto(base + confirmation_link(sink, "small.screen@example.org"))
        page.click("form button[type=submit]")
        page.click("main a[href*='/preferences']")
        assert page.evaluate("document.documentElement.scrollWidth") <= 320
        assert serious_violations(page) == []
        page.click("main a[href*='/erase']")
        page.click("form button[type=submit]")
        assert "Vos données sont effacées" in page.inner_text("main")
