"""The web app never hangs on a heavy or broken campaign.

Rendering runs in a pool of its own with a time limit, so a heavy preview leaves the
unsubscribe page and the images alone; a campaign with errors does not take them down; and
SIGTERM stops `wavecast serve` within seconds while a render is running.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from audiences.tokens import unsubscribe_token
from audiences.upsert import add_contacts
from campaign import render_deadline
from frontends.web import pages, rendering
from tests.campaign_copy import copy_campaign, edit, line_of
from tests.conftest import free_port
from tests.live_app import live_app, live_server
from tests.waiting import wait_for

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
IMAGE = "images/banner.png"
LONG = "'x' * 10000"
HEAVY = "".join(f"{{% for {v} in {LONG} %}}" for v in "abc") + "{% endfor %}" * 3
FILES = [f"messages/hello/{kind}.{lang}.md" for kind in ("youth", "all") for lang in ("nl", "fr", "de", "en")]
QUICK = 5.0  # seconds a page that does not render may take, however busy the renderer is


@pytest.fixture
def camp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = copy_campaign(tmp_path)
    (directory / "images").mkdir()
    (directory / IMAGE).write_bytes(PNG)
    monkeypatch.chdir(tmp_path)
    return directory


def make_heavy(camp: Path, files: list[str] = FILES) -> dict[str, int]:
    """Every message file gets a loop that runs out of CPU time (each a different text)."""
    lines = {}
    for name in files:
        # A text of its own each time: a text that ran out of time once is not rendered again.
        edit(camp / name, "message in", f"message in\n\n{HEAVY}{{# {time.time_ns()} #}}\n\n")
        lines[name] = line_of(camp / name, HEAVY)
    return lines


@pytest.fixture
def client_of() -> Iterator[Callable[[str], httpx.Client]]:
    clients: list[httpx.Client] = []

    def make(base: str) -> httpx.Client:
        clients.append(httpx.Client(base_url=base, timeout=60))
        return clients[-1]

    yield make
    for client in clients:
        client.close()


def test_a_heavy_preview_leaves_the_unsubscribe_page_and_the_images_alone(
    camp: Path, client_of: Callable[[str], httpx.Client], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(render_deadline, "CPU_SECONDS", 0.5)
    # This test is about the other pages and the preview's error page; the page's own time limit
    # (a "still rendering" page) has its test below, and a busy machine can reach it here.
    monkeypatch.setattr(rendering, "PAGE_SECONDS", 120.0)
    lines = make_heavy(camp)
    with live_app(camp) as base:
        client = client_of(base)
        preview: list[httpx.Response] = []
        thread = threading.Thread(target=lambda: preview.append(client_of(base).get("/preview")))
        thread.start()
        wait_for(lambda: bool(rendering._running), "the preview to start rendering")
        for _ in range(3):
            started = time.monotonic()
            assert client.get("/u/not-a-token").status_code == 400
            assert client.get(f"/assets/mini/{IMAGE}").content == PNG
            assert time.monotonic() - started < QUICK
            assert rendering._running, "the renderer finished before the other pages were tried"
        thread.join(timeout=120)
        (response,) = preview
    # The preview names each file and line that ran out of time, as a page, not a hang.
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    for name, line in lines.items():
        assert f"{camp.name}/{name}:{line}:" in response.text, name


@pytest.mark.parametrize("path", ["/preview", "/preview/newsletter/first/youth/nl", "/", "/plan", "/report"])
def test_a_page_waiting_too_long_for_rendering_says_what_is_rendering(
    camp: Path, client_of: Callable[[str], httpx.Client], monkeypatch: pytest.MonkeyPatch, path: str
) -> None:
    with live_app(camp) as base:
        client = client_of(base)
        # Loaded once, while light, with the normal page limit: a busy machine may take more than
        # the short limit below to render even a light campaign.
        assert client.get("/preview").status_code == 200
        monkeypatch.setattr(rendering, "PAGE_SECONDS", 0.3)
        make_heavy(camp, FILES[:1])
        # On a busy machine the first 0.3 s may go to reading the files, before any message
        # renders; the page then cannot name one yet. Asked again, it names the heavy one.
        deadline = time.monotonic() + 60
        while True:
            started = time.monotonic()
            response = client.get(path)
            assert time.monotonic() - started < QUICK
            assert response.status_code == 503
            assert response.headers["content-type"].startswith("text/html")
            assert "still rendering" in response.text
            if "youth.nl.md:" in response.text:  # the file being rendered
                break
            assert time.monotonic() < deadline, "the page never named the file being rendered"
        wait_for(lambda: not rendering._running, "the render to end in the background")


# More than the server's request threads (anyio's default pool holds 40): were a waiting page to
# hold a thread, the dashboard's home alone would take them all. The other pages that need the
# campaign wait beside it, a few each.
MANY = 50
NEEDS_THE_CAMPAIGN = ["/plan", "/report", "/preview", "/preview/newsletter/first/youth/nl"]


def test_many_pages_waiting_for_a_slow_render_hold_no_request_thread(
    camp: Path, client_of: Callable[[str], httpx.Client], monkeypatch: pytest.MonkeyPatch, database_url: str
) -> None:
    (contact_id,) = add_contacts([{"email": "jan.peeters@example.org", "language": "nl"}])
    token = unsubscribe_token(contact_id)
    release = threading.Event()
    load = pages._load

    def held(root: str) -> object:
        # A campaign whose load renders until the test says so: as slow as a heavy one, and as
        # long as the checks below need, whatever the machine's load.
        release.wait(60)
        return load(root)

    monkeypatch.setattr(pages, "_load", held)
    answers: list[httpx.Response] = []
    with live_server(camp) as (base, server):
        client = client_of(base)
        waiting = [
            threading.Thread(target=lambda p=path: answers.append(httpx.get(base + p, timeout=60)), daemon=True)
            for path in ["/"] * MANY + NEEDS_THE_CAMPAIGN * 3
        ]
        try:
            for thread in waiting:
                thread.start()
            # uvicorn keeps a task per request under way: all of them are in, waiting.
            wait_for(lambda: len(server.server_state.tasks) >= len(waiting), "every request to be under way")
            quick = {
                f"/u/{token}": "<form",
                "/u/not-a-token": "",
                f"/assets/mini/{IMAGE}": "",
                "/status": "Live status",
                "/api/status": "[",
                "/initiatives": "Review queue",
                "/login": "Sign in",
            }
            for _ in range(2):
                for path, shows in quick.items():
                    started = time.monotonic()
                    response = client.get(path)
                    assert time.monotonic() - started < QUICK, path
                    assert response.status_code == (400 if "not-a-token" in path else 200), path
                    assert shows in response.text if shows else response.content == PNG or "/u/" in path, path
            assert not answers, "a page that needs the campaign answered before its render ended"
        finally:
            release.set()
        for thread in waiting:
            thread.join(timeout=60)
    # Every waiting page got its answer once the render ended.
    assert len(answers) == len(waiting)
    for response in answers:
        assert response.status_code == 200, (response.url, response.status_code, response.text[:300])
        assert response.headers["content-type"].startswith("text/html"), response.url


def test_a_broken_campaign_keeps_the_unsubscribe_page_and_the_images_up(
    camp: Path, client_of: Callable[[str], httpx.Client], database_url: str
) -> None:
    (contact_id,) = add_contacts([{"email": "lea.dubois@example.org", "language": "fr"}])
    token = unsubscribe_token(contact_id)
    good = (camp / "campaign.yaml").read_text(encoding="utf-8")
    with live_app(camp) as base:
        client = client_of(base)
        assert client.get(f"/assets/mini/{IMAGE}").content == PNG
        breakages = {
            "campaign.yaml not YAML": lambda: (camp / "campaign.yaml").write_text("campaign: [\n", encoding="utf-8"),
            "campaign.yaml invalid": lambda: (camp / "campaign.yaml").write_text("schema_version: 1\n"),
            "a template that does not parse": lambda: edit(camp / FILES[0], "message in", "{% for %}"),
            "a template over its bounds": lambda: make_heavy(camp, FILES[1:2]),
        }
        for name, breakage in breakages.items():
            (camp / "campaign.yaml").write_text(good, encoding="utf-8")
            breakage()
            started = time.monotonic()
            assert client.get(f"/assets/mini/{IMAGE}").content == PNG, name
            asked = client.get(f"/u/{token}")
            assert asked.status_code == 200 and "<form" in asked.text, name
            assert time.monotonic() - started < QUICK, name
            dashboard = client.get("/")
            assert dashboard.status_code in (200, 422, 503), name
            assert dashboard.headers["content-type"].startswith("text/html"), name
        assert client.post(f"/u/{token}").status_code == 200


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_sigterm_stops_serve_within_seconds_while_a_render_runs(camp: Path, tmp_path: Path) -> None:
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "frontends", "serve", str(camp), "--port", str(port)],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=os.environ.copy(),
    )
    try:
        base = f"http://127.0.0.1:{port}"

        def answers() -> bool:
            assert server.poll() is None, "the server stopped before answering"
            try:
                return httpx.get(f"{base}/u/x", timeout=1).status_code == 400
            except httpx.TransportError:
                return False

        wait_for(answers, "the server to answer")
        make_heavy(camp)  # eight texts of a second of CPU each: the reload renders for seconds
        busy_from = _cpu_seconds(server.pid)
        requests = [threading.Thread(target=_get, args=(f"{base}{path}",), daemon=True) for path in ("/preview", "/")]
        for request in requests:
            request.start()
        wait_for(lambda: _cpu_seconds(server.pid) > busy_from + 0.5, "the server to be rendering")
        server.send_signal(signal.SIGTERM)
        stopped = time.monotonic()
        _, err = server.communicate(timeout=30)
        assert time.monotonic() - stopped < 8, f"stopped {time.monotonic() - stopped:.1f} s after SIGTERM"
        assert b"Traceback" not in err, err.decode()
    finally:
        if server.poll() is None:
            server.kill()
        server.communicate()


def _get(url: str) -> None:
    with contextlib.suppress(httpx.TransportError):  # the server stops under it, as the test wants
        httpx.get(url, timeout=60)
