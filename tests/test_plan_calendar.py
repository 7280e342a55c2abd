"""The plan as an iCalendar file that other calendars read: the zone declared, in each language."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from icalendar import Calendar

from campaign.template_context import translated
from tests.campaign_copy import copy_campaign
from tests.cli import wavecast
from tests.conftest import ROOT

EXAMPLE = ROOT / "examples" / "smartnation"


def calendar_of(capsys: pytest.CaptureFixture[str], tmp_path: Path, *lang: str, campaign: Path = EXAMPLE) -> Calendar:
    target = tmp_path / f"plan{'.'.join(('', *lang))}.ics"
    result = wavecast(capsys, "plan", str(campaign), "--ics", str(target), *(("--lang", *lang) if lang else ()))
    assert result.code == 0, result.err
    return Calendar.from_ical(target.read_bytes())


def test_each_language_feed_declares_its_zone_and_lands_at_the_plans_instants(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from campaign.bundle import load_bundle

    spec = load_bundle(EXAMPLE).spec
    planned = json.loads(wavecast(capsys, "plan", str(EXAMPLE), "--json").out)
    utc = {w["id"]: dt.datetime.fromisoformat(w["start_utc"]) for w in planned}
    assert spec.campaign.languages == ("nl", "fr", "de", "en")
    first_summaries = set()
    for lang in spec.campaign.languages:
        calendar = calendar_of(capsys, tmp_path, lang)
        assert calendar.get_missing_tzids() == set()
        zones = {str(z["TZID"]): z for z in calendar.walk("VTIMEZONE")}
        assert set(zones) == {"Europe/Brussels"}
        assert str(calendar["X-WR-CALNAME"]) == translated(spec, spec.campaign.name, lang)
        events = calendar.walk("VEVENT")
        assert len(events) == len(planned)
        first_summaries.add(str(events[0]["SUMMARY"]))
        for event in events:
            wave = str(event["UID"]).split(".")[1].split("@")[0]
            assert event["DTSTART"].params["TZID"] == "Europe/Brussels"
            # Read the local time through the file's own VTIMEZONE, not the machine's zoneinfo:
            # that is all a calendar has.
            local = event.decoded("DTSTART").replace(tzinfo=None)
            declared = zones["Europe/Brussels"].to_tz()
            assert local.replace(tzinfo=declared).astimezone(dt.UTC) == utc[wave], (lang, wave)
            assert translated(spec, spec.wave(wave).title, lang) in str(event["SUMMARY"])
            assert event["SUMMARY"].params["LANGUAGE"] == lang
    # The same wave, four languages: the titles differ, so the feeds are really translated.
    assert len(first_summaries) == 4


def test_default_calendar_is_in_the_campaigns_first_language(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    calendar = calendar_of(capsys, tmp_path)
    assert calendar.walk("VEVENT")[0]["SUMMARY"].params["LANGUAGE"] == "nl"


def test_a_language_the_campaign_lacks_is_a_clear_error(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    target = tmp_path / "plan.ics"
    result = wavecast(capsys, "plan", str(EXAMPLE), "--ics", str(target), "--lang", "es")
    assert result.code == 1
    assert "--lang es" in result.err and "nl, fr, de, en" in result.err
    assert len(result.err.strip().splitlines()) == 1
    assert not target.exists()


def test_the_web_feed_serves_the_language_asked_for(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    import warnings

    from starlette.exceptions import StarletteDeprecationWarning

    from campaign.bundle import load_bundle
    from frontends.web.app import create_app

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StarletteDeprecationWarning)
        from fastapi.testclient import TestClient

    # The minimal campaign: the feed renders the whole campaign as the web app loads it.
    campaign = copy_campaign(tmp_path)
    spec = load_bundle(campaign).spec
    with TestClient(create_app(campaign), client=("127.0.0.1", 50200), base_url="http://127.0.0.1") as client:
        feed = client.get("/plan.ics", params={"lang": "de"})
        assert feed.status_code == 200 and feed.headers["content-type"] == "text/calendar; charset=utf-8"
        calendar = Calendar.from_ical(feed.content)
        assert calendar.get_missing_tzids() == set() and calendar.walk("VTIMEZONE")
        assert str(calendar["X-WR-CALNAME"]) == translated(spec, spec.campaign.name, "de")
        # The same events as the file the CLI writes, in the same language.
        written = calendar_of(capsys, tmp_path, "de", campaign=campaign)
        assert [(str(e["UID"]), str(e["SUMMARY"]), e.decoded("DTSTART")) for e in calendar.walk("VEVENT")] == [
            (str(e["UID"]), str(e["SUMMARY"]), e.decoded("DTSTART")) for e in written.walk("VEVENT")
        ]
        default = Calendar.from_ical(client.get("/plan.ics").content)
        assert default.walk("VEVENT")[0]["SUMMARY"].params["LANGUAGE"] == "nl"
        unknown = client.get("/plan.ics", params={"lang": "es"})
        assert unknown.status_code == 400 and "nl, fr, de, en" in unknown.text
