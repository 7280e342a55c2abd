"""The dashboard's home: what a communications officer learns on Monday morning, every number
linking to the page that explains it."""

from __future__ import annotations

import datetime as dt
import re
import warnings
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from starlette.exceptions import StarletteDeprecationWarning

from campaign.db import get_engine
from frontends.web.app import create_app
from frontends.web.countdown import countdown
from frontends.web.i18n import speaking
from tests.accounts_setup import TESTER
from tests.campaign_copy import edit
from tests.conftest import reset_caches
from tests.sending_setup import add_contacts, approved_campaign
from tests.web_rows import sending_run
from waves.launch import launch_wave

with warnings.catch_warnings():
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient


def _client(campaign: Path) -> TestClient:
    reset_caches()
    return TestClient(
        create_app(campaign), client=("127.0.0.1", 50310), base_url="http://127.0.0.1", raise_server_exceptions=False
    )


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.fixture
def sent(tmp_path: Path, database_url: str) -> Iterator[tuple[TestClient, Path]]:
    """The minimal campaign with its first wave sent to 6 people and its second one sending."""
    add_contacts(6)
    bundle = approved_campaign(tmp_path)
    launch_wave(bundle, "first", TESTER)
    with get_engine().begin() as conn:
        sending_run(conn, bundle.root)
    with _client(bundle.root) as client:
        yield client, bundle.root


def test_countdown_reads_in_days_hours_and_minutes() -> None:
    tz = ZoneInfo("Europe/Brussels")
    now = dt.datetime(2023, 6, 12, 0, 0, tzinfo=tz)
    assert countdown(now, now + dt.timedelta(hours=10)) == "in 10 h 0 min"
    assert countdown(now, now + dt.timedelta(days=1, hours=2, minutes=59)) == "in 1 day 2 h"
    assert countdown(now, now + dt.timedelta(days=3, hours=4)) == "in 3 days 4 h"
    assert countdown(now, now + dt.timedelta(minutes=12, seconds=30)) == "in 12 min 30 s"
    assert countdown(now, now) == "sending now"
    with speaking("nl"):
        assert countdown(now, now + dt.timedelta(days=1, hours=2)) == "over 1 dag 2 u"
        assert countdown(now, now + dt.timedelta(days=3, hours=4)) == "over 3 dagen 4 u"
    with speaking("fr"):
        assert countdown(now, now + dt.timedelta(days=3, hours=4)) == "dans 3 jours 4 h"
        assert countdown(now, now + dt.timedelta(minutes=2, seconds=5)) == "dans 2 min 5 s"


def test_as_of_the_launch_day_the_next_wave_counts_down_and_both_wait_for_approval(
    tmp_path: Path, database_url: str
) -> None:
    from tests.campaign_copy import copy_campaign

    with _client(copy_campaign(tmp_path)) as client:
        page = client.get("/", params={"as_of": "2023-06-12"})
    assert page.status_code == 200
    text = _text(page.text)
    assert "as of 2023-06-12" in text
    assert "First Mon 12 Jun 2023, 10:00 CEST in 10 h 0 min" in text  # local time, campaign's zone
    assert 'href="/plan#wave-first"' in page.text
    assert text.count("0 of 1 approvals") == 2  # the minimal campaign needs one approval per wave
    assert "No wave has been launched yet." in text and "Nothing is sending." in text


def test_sending_results_and_problems_each_link_to_their_page(sent: tuple[TestClient, Path]) -> None:
    client, root = sent
    text = _text(client.get("/").text)
    assert "No wave lies ahead." in text  # 2023, seen from today
    # the second wave is sending (a run with no rows yet), the first one's results are in
    assert "second running" in text and "0 of 0 settled" in text
    html = client.get("/").text
    assert 'href="/status#run-second"' in html
    results = re.findall(r'<tr><th scope="row">(\w+)</th><td data-label="Language">(\w+)</td>', html)
    assert ("citizens", "nl") in results
    delivered = sum(int(n) for n in re.findall(r'data-label="Delivered"><a href="[^"]+#deliverability">(\d+)<', html))
    assert delivered == 6  # every person got the first wave's e-mail once
    assert "Nothing: the files validate" in text

    from waves.control import pause

    pause("second", TESTER)
    text = _text(client.get("/").text)
    assert "wave second is paused:" in text and 'href="/status"' in client.get("/").text

    edit(
        root / "campaign.yaml",
        "audiences:\n",
        "audiences:\n  - id: nobody\n    title: {nl: Niemand, fr: Personne, de: Niemand, en: Nobody}\n"
        "    rule: {age: {min: 120}}\n",
    )
    reset_caches()
    text = _text(client.get("/").text)
    assert "Needs a person" in text and "nobody" in text  # an audience no wave addresses


def test_bad_as_of_is_a_400_naming_the_parameter_and_doctor_lists_every_check(
    tmp_path: Path, database_url: str
) -> None:
    from tests.campaign_copy import copy_campaign

    with _client(copy_campaign(tmp_path)) as client:
        bad = client.get("/", params={"as_of": "12/06/2023"})
        assert bad.status_code == 400 and "12/06/2023" in bad.text
        assert "is not a date: give it as YYYY-MM-DD" in bad.text
        doctor = client.get("/doctor")
    assert doctor.status_code == 200
    assert doctor.text.count('<tr id="check-') >= 5 and "secret key" in doctor.text.lower()
