"""`make screenshots`: every page of the web app at desktop and phone width, into docs/screenshots/.

The example campaign is served by `wavecast serve` on a free loopback port, over a scratch
database that holds what the demo makes (synthetic contacts, the launch wave approved and sent to
the outbox), so the pages show a campaign under way. Debian's chromium takes the pictures.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"
EXAMPLE = ROOT / "examples" / "smartnation"
TEAM = ("admin@example.org", "ann.peeters@example.org", "luc.dubois@example.org")
DUTCH = "an.janssens@example.org"  # reads the web app in Dutch (her account's choice)
FRENCH = "claire.lambert@example.org"  # and she in French
PASSWORD = "screenshots of a throwaway database"  # noqa: S105 - accounts that live for one run
WIDTHS = {"desktop": 1280, "phone": 390}
PAGES = {
    "dashboard": "/?as_of=2023-06-26",
    "timeline": "/timeline?month=2023-06",
    "plan": "/plan",
    "preview": "/preview?wave=launch&lang=fr",
    "editor": "/edit/women/women/fr",
    "translations": "/translations/launch/citizens",
    "status": "/status",
    "report": "/report",
    "doctor": "/doctor",
    "subscribe": "/subscribe?lang=fr",
    "audit": "/audit",
    "account": "/account",
    "initiatives": "/initiatives",
    "not-found": "/no/such/page",  # the error page, in the app's layout
    "bad-month": "/timeline?month=9999-12",  # a request the app refuses, saying why
}
EXPECTED = {"not-found": 404, "bad-month": 400}  # the status a page is shot at; 200 for every other one
IN_DUTCH = (
    "dashboard",
    "timeline",
    "status",
    "report",
    "doctor",
)  # shot again as the Dutch account: <name>-nl-<view>.png
IN_FRENCH = ("report", "doctor", "bad-month")  # and as the French one: <name>-fr-<view>.png


def wavecast(*args: str, env: dict[str, str]) -> None:
    subprocess.run([sys.executable, "-m", "frontends", *args], check=True, env=env, stdout=subprocess.DEVNULL)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until_up(url: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"wavecast serve ended with status {server.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 - our own loopback server
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not answer within 60 s")


def small(png: Path) -> None:
    """256 colours are plenty for a page of text: a third of the bytes in the repository."""
    from PIL import Image

    with Image.open(png) as image:
        image.convert("RGB").quantize(256).save(png, optimize=True)


def snap(page: Any, target: Path) -> Path:
    page.screenshot(path=str(target), full_page=True)
    small(target)
    return target


def shoot(base: str, report: Path | None = None) -> list[Path]:
    from playwright.sync_api import sync_playwright

    taken = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        for who, names, suffix in ((TEAM[0], list(PAGES), ""), (DUTCH, IN_DUTCH, "-nl"), (FRENCH, IN_FRENCH, "-fr")):
            for view, width in WIDTHS.items():
                context = browser.new_context(viewport={"width": width, "height": 900}, locale="en-GB")
                page = context.new_page()
                page.goto(f"{base}/login?next=/")
                if not suffix:  # the sign-in page, as everyone first sees it
                    taken.append(snap(page, OUT / f"login-{view}.png"))
                page.get_by_label("E-mail address").fill(who)
                page.get_by_label("Password").fill(PASSWORD)
                page.get_by_role("button", name="Sign in").click()
                page.wait_for_url(f"{base}/?done=login")
                for name in names:
                    response = page.goto(base + PAGES[name])
                    if response is None or response.status != EXPECTED.get(name, 200):
                        print(f"skipped {PAGES[name]}: {response.status if response else 'no answer'}", file=sys.stderr)
                        continue
                    taken.append(snap(page, OUT / f"{name}{suffix}-{view}.png"))
                if not suffix and report is not None:  # the report as the file `wavecast report` writes
                    page.goto(report.as_uri())
                    taken.append(snap(page, OUT / f"report-document-{view}.png"))
                context.close()
        browser.close()
    return taken


def team(env: dict[str, str]) -> list[str]:
    """The admin (every role, a password for the browser) and two approvers, their tokens; and a
    reader whose web app speaks Dutch and one whose speaks French."""
    os.environ.update(env)
    from accounts import directory, tokens
    from accounts.passwords import hash_password
    from accounts.roles import ROLES, Role
    from campaign.db import get_engine, session_scope, upgrade

    upgrade(get_engine())
    made = []
    with session_scope() as session:
        for email in TEAM:
            account = directory.add(session, email, list(ROLES) if email == TEAM[0] else [Role.APPROVER])
            account.password_hash = hash_password(PASSWORD)
            made.append(tokens.create(session, account, "screenshots"))
        for email, language in ((DUTCH, "nl"), (FRENCH, "fr")):
            reader = directory.add(session, email, [Role.VIEWER])
            reader.password_hash = hash_password(PASSWORD)
            reader.language = language
    return made


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="wavecast-screens-") as scratch:
        env = {
            **os.environ,
            "WAVECAST_DATABASE_URL": f"sqlite:///{scratch}/screens.db",
            "WAVECAST_OUTBOX_DIR": f"{scratch}/outbox",
            "PYTHONPATH": str(ROOT),
        }
        for key in ("WAVECAST_SMTP_URL", "WAVECAST_BROKER_URL"):
            env.pop(key, None)
        admin, *approvers = team(env)
        wavecast("contacts", "generate", "500", "--seed", "2023", env={**env, "WAVECAST_TOKEN": admin})
        for token in approvers:
            wavecast("approve", str(EXAMPLE), "--wave", "launch", env={**env, "WAVECAST_TOKEN": token})
        wavecast("send", str(EXAMPLE), "--wave", "launch", env={**env, "WAVECAST_TOKEN": admin})
        report = Path(scratch) / "report.html"
        wavecast("report", str(EXAMPLE), "--format", "html", "--out", str(report), env={**env, "WAVECAST_TOKEN": admin})
        port = free_port()
        server = subprocess.Popen(
            [sys.executable, "-m", "frontends", "serve", str(EXAMPLE), "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_until_up(f"http://127.0.0.1:{port}/plan", server)
            taken = shoot(f"http://127.0.0.1:{port}", report)
        finally:
            server.terminate()
            server.wait(timeout=20)
    print(f"wrote {len(taken)} screenshots to {OUT.relative_to(ROOT)}/")


if __name__ == "__main__":
    main()
