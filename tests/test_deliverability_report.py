"""Bounces, complaints and suppressions made visible: the report's counts and rates per wave ×
audience × language, `wavecast status`, the dashboard's status page and `contacts show`.

The scene (tests/deliverability_scene.py) sends every bounce and complaint through the real
intake, so the breaker, the suppression policy and the complaint's unsubscribe all take part.
"""

from __future__ import annotations

import json
import re
import warnings

import pytest

from campaign.bundle import load_bundle
from campaign.db import get_engine
from frontends.cli.reports import to_csv
from frontends.web.app import create_app
from frontends.web.templates import render
from tests.campaign_copy import MINIMAL
from tests.cli import wavecast
from tests.conftest import reset_caches
from tests.deliverability_scene import Scene, address, make_scene
from waves.models import PAUSED
from waves.report import build_report

with warnings.catch_warnings():
    from starlette.exceptions import StarletteDeprecationWarning

    # Starlette asks for its httpx fork; the released httpx it warns about works the same here.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")


@pytest.fixture
def scene(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Scene:
    monkeypatch.setenv("WAVECAST_BREAKER_MIN_MESSAGES", "5")  # a handful of e-mails is enough to judge
    reset_caches()
    return make_scene()


def test_report_counts_and_rates_per_wave_audience_language(scene: Scene, capsys: pytest.CaptureFixture[str]) -> None:
    with get_engine().connect() as conn:
        report = build_report(conn, load_bundle(MINIMAL))
    lines = {(m.wave, m.audience, m.language): m for m in report.deliverability}
    assert set(lines) == {("first", "youth", "nl"), ("first", "citizens", "fr"), ("second", "citizens", "nl")}
    fields = ("planned", "emails", "delivered", "hard_bounces", "soft_bounces", "complaints", "unsubscribes")
    figures = {key: tuple(getattr(m, f) for f in (*fields, "suppressed_before_sending")) for key, m in lines.items()}
    # youth/nl: the complaint unsubscribed y2 (a recipient); y3 unsubscribed too, but was never sent.
    assert figures[("first", "youth", "nl")] == (4, 3, 3, 1, 0, 1, 1, 1)
    # citizens/fr: the relay's refusal is a sent e-mail that bounced; the cancelled row is no suppression.
    assert figures[("first", "citizens", "fr")] == (5, 4, 3, 1, 1, 0, 1, 0)
    assert figures[("second", "citizens", "nl")] == (2, 2, 2, 0, 1, 0, 0, 0)
    youth = lines[("first", "youth", "nl")].rates()
    assert youth["hard_bounces_rate"] == youth["complaints_rate"] == round(1 / 3, 4)
    assert youth["suppressed_before_sending_rate"] == 0.25  # of the 4 planned, not of the 3 sent
    assert lines[("first", "citizens", "fr")].rates()["delivered_rate"] == 0.75
    assert report.deliverability_total().hard_bounces == 2

    data = report.as_json()
    assert data["deliverability_totals"]["emails"] == 9
    assert data["deliverability_totals"]["soft_bounces_rate"] == round(2 / 9, 4)
    csv_text = to_csv(report)
    assert "deliverability,first,citizens,fr,newsletter,,,hard_bounces_rate,0.25" in csv_text.splitlines()
    html = render("report_document.html", report=report, charts=[])  # `--format html` without the charts' matplotlib
    youth_row = re.search(r'<tr data-segment="first/youth/nl">.*?</tr>', html, re.S)
    assert youth_row is not None
    cells = " ".join(re.sub(r"<[^>]+>", " ", youth_row.group(0)).split())
    assert cells == "first · youth · nl 3 3 (100.0 %) 1 (33.3 %) 0 (0.0 %) 1 (33.33 %) 1 (33.3 %) 1 (25.0 %)"
    table = wavecast(capsys, "report", str(MINIMAL)).out
    rows = [" ".join(line.split()) for line in table.splitlines()]
    at = rows.index("first 3 3 1 0 1 1 1")  # youth/nl within 80 columns: the counts over their rates
    assert rows[at + 1] == "youth nl 100.0% 33.3% 0.0% 33.33% 33.3% 25.0%"
    for name, text in {"json": json.dumps(data), "csv": csv_text, "html": html, "table": table}.items():
        assert "secret-person" not in text, name
        assert not EMAIL.search(text), (name, EMAIL.search(text))


@pytest.mark.usefixtures("signed_in")  # contacts show is personal data: an operator's
def test_status_dashboard_and_contacts_show(scene: Scene, capsys: pytest.CaptureFixture[str]) -> None:
    status = wavecast(capsys, "status")
    assert status.code == 0, status.err
    text = " ".join(status.out.split())
    assert "first (paused)" in text
    assert "paused by the bounce breaker: 1 hard bounce in the last 7 e-mails (14.3%, above 5.0%)" in text
    assert (
        "e-mails sent 7 (delivered 6); bounces so far: 2 (28.6%) hard, 1 (14.3%) soft; complaints 1 (14.29%); "
        "suppressed before sending 1" in text
    )
    assert "e-mails sent 2 (delivered 2); bounces so far: 0 (0.0%) hard, 1 (50.0%) soft" in text
    assert "suppression list: 4 address(es): 2 hard-bounce, 1 complaint, 1 erased" in text
    assert text.count("paused by the bounce breaker") == 1  # second is done: no breaker line

    with TestClient(create_app(MINIMAL), client=("127.0.0.1", 50300), base_url="http://127.0.0.1") as client:
        html = client.get("/status").text
        runs = client.get("/api/status").json()
    first = re.search(r'<section id="run-first".*?</section>', html, re.S)
    assert first is not None
    assert "Paused by the bounce breaker.</strong> 1 hard bounce in the last 7 e-mails" in first.group(0)
    assert 'data-bounce="hard_bounces">2 (28.6 %)<' in first.group(0)
    assert 'data-bounce="complaints">1 (14.29 %)<' in first.group(0)
    assert "Suppression list: 4 address(es): 2 hard-bounce, 1 complaint, 1 erased" in html
    by_wave = {r["wave"]: r for r in runs}
    assert by_wave["first"]["state"] == PAUSED and by_wave["first"]["breaker"].startswith("paused by the bounce")
    assert by_wave["second"]["breaker"] is None and by_wave["second"]["bounces"]["soft_bounces"] == 1

    complained = wavecast(capsys, "contacts", "show", address("y2"))
    assert complained.code == 0, complained.err
    assert (
        "suppressed: reason complaint, status abuse, reported by smtp, report dated 2024-03-04 05:06 UTC"
        in complained.out
    )
    assert "subscribed: False" in complained.out  # a complaint unsubscribes
    shown = json.loads(wavecast(capsys, "contacts", "show", address("f2"), "--json").out)
    assert {k: shown["suppression"][k] for k in ("reason", "status_code", "source")} == {
        "reason": "hard-bounce",
        "status_code": "550",
        "source": "relay",
    }
    assert "not suppressed" in wavecast(capsys, "contacts", "show", address("f1")).out

    # Erased after its hard bounce: every command about the address says it is still suppressed, and why.
    erased = wavecast(capsys, "contacts", "show", address("y1"))
    assert erased.code == 1
    assert (
        f"no contact holds {address('y1')} (the address was erased: only its keyed hash is on the suppression "
        "list; reason hard-bounce, status 5.1.1, reported by smtp, report dated 2024-03-04 05:06 UTC" in erased.err
    )
    again = wavecast(capsys, "contacts", "unsubscribe", address("y1"))
    assert again.code == 1 and "reason hard-bounce, status 5.1.1" in again.err
    assert "on the suppression list (hard-bounce)" in wavecast(capsys, "contacts", "erase", address("y1")).out
