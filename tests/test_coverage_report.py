"""`wavecast audiences`: counts per audience x language, overlaps, and who is forgotten."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from audiences.consent import erase, unsubscribe_email
from audiences.coverage import coverage
from audiences.synthetic import generate
from audiences.upsert import add_contacts
from campaign.bundle import load_spec
from campaign.db import get_engine
from tests.cli import wavecast_process as wavecast
from tests.conftest import SMARTNATION, need

MINIMAL = Path(__file__).parent / "fixtures" / "minimal"


def campaign_dir(tmp_path: Path) -> Path:
    """The minimal campaign plus `women` (addressed in the second wave) and `seniors` (addressed by none)."""
    target = tmp_path / "campaign"
    shutil.copytree(MINIMAL, target)
    data = yaml.safe_load((target / "campaign.yaml").read_text(encoding="utf-8"))
    title = {lang: "x" for lang in ("nl", "fr", "de", "en")}
    data["audiences"] += [
        {"id": "women", "title": title, "rule": {"tag": "women"}},
        {"id": "seniors", "title": title, "rule": {"age": {"min": 65}}},
    ]
    data["waves"][1]["messages"].insert(
        0, {"id": "for-women", "audiences": ["women"], "channels": ["newsletter"], "template": "hello/all"}
    )
    (target / "campaign.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return target


def people() -> None:
    add_contacts(
        [
            {"email": "a@example.org", "birth_year": 1980},
            {"email": "b@example.org", "birth_year": 2005, "language": "fr"},
            {"email": "c@example.org", "birth_year": 1970, "language": "de", "tags": ["women"]},
            {"email": "d@example.org", "birth_year": 2004, "language": "nl", "tags": ["women"]},
            {"email": "e@example.org", "birth_year": 2004},
            {"email": "f@example.org", "birth_year": 2004},
            {"email": "h@example.org", "birth_year": 1940, "language": "en"},
        ]
    )
    unsubscribe_email("e@example.org")
    erase("f@example.org")


def by_language(**counts: int) -> dict[str, int]:
    return {lang: counts.get(lang, 0) for lang in ("nl", "fr", "de", "en")}


@pytest.mark.usefixtures("database_url")
def test_audiences_json_counts_per_language_overlaps_and_the_forgotten(tmp_path: Path) -> None:
    people()
    result = wavecast("audiences", str(campaign_dir(tmp_path)), "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["date"] == "2023-06-12"  # the first wave's date
    assert (report["contacts"], report["eligible"], report["unsubscribed"]) == (6, 5, 1)
    assert report["audiences"] == {
        "citizens": by_language(nl=2, fr=1, de=1, en=1),
        "youth": by_language(nl=1, fr=1),
        "women": by_language(nl=1, de=1),
        "seniors": by_language(en=1),
    }
    assert report["overlaps"] == {
        "citizens": {"youth": 2, "women": 2, "seniors": 1},
        "youth": {"women": 1, "seniors": 0},
        "women": {"seniors": 0},
    }
    assert report["no_audience"] == 0
    # a (no audience but citizens) and h (seniors, which no message addresses).
    assert report["only_citizens"] == 2


@pytest.mark.usefixtures("database_url")
def test_audiences_for_a_wave_shows_who_gets_which_message(tmp_path: Path) -> None:
    people()
    result = wavecast("audiences", str(campaign_dir(tmp_path)), "--wave", "first", "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    wave = json.loads(result.stdout)["wave"]
    assert wave["start"] == "2023-06-12T10:00:00+02:00"
    got = {(c["message"], c["audience"], c["language"], c["channel"]): c["count"] for c in wave["counts"]}
    assert got == {
        ("young", "youth", "nl", "newsletter"): 1,
        ("young", "youth", "nl", "x"): 1,
        ("young", "youth", "fr", "newsletter"): 1,
        ("young", "youth", "fr", "x"): 1,
        ("all", "citizens", "nl", "newsletter"): 1,
        ("all", "citizens", "nl", "x"): 1,
        ("all", "citizens", "de", "newsletter"): 1,
        ("all", "citizens", "de", "x"): 1,
        ("all", "citizens", "en", "newsletter"): 1,
        ("all", "citizens", "en", "x"): 1,
    }
    assert wave["total"] == 10
    table = wavecast("audiences", str(campaign_dir(tmp_path / "t")), "--wave", "first", cwd=tmp_path)
    assert table.returncode == 0 and "only in a campaign-wide audience" in table.stdout
    unknown = wavecast("audiences", str(campaign_dir(tmp_path / "u")), "--wave", "nope", cwd=tmp_path)
    assert unknown.returncode == 1 and "no wave 'nope'" in unknown.stderr


@pytest.mark.usefixtures("database_url")
def test_without_a_campaign_wide_audience_the_unreached_are_in_no_audience(tmp_path: Path) -> None:
    people()
    directory = campaign_dir(tmp_path)
    spec = load_spec(directory)[0]
    data: dict[str, Any] = spec.model_dump(by_alias=True, exclude_none=True)
    data["audiences"] = [a for a in data["audiences"] if a["id"] != "citizens"]
    for wave in data["waves"]:
        wave["messages"] = [m for m in wave["messages"] if "citizens" not in m["audiences"]]
    narrowed = type(spec).model_validate(data)
    with get_engine().connect() as conn:
        cover = coverage(conn, narrowed, dt.date(2023, 6, 12))
    assert (cover.no_audience, cover.only_citizens) == (1, 0)  # a; h is in seniors


@pytest.mark.usefixtures("database_url")
def test_the_example_campaign_reports_counts_and_the_number_in_no_audience(tmp_path: Path) -> None:
    need((SMARTNATION / "campaign.yaml").is_file(), "the example campaign examples/smartnation")
    generate(1500, seed=11, today=dt.date(2023, 6, 12))
    result = wavecast("audiences", str(SMARTNATION), "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert set(report["audiences"]) == {
        "citizens",
        "women",
        "youth",
        "seniors",
        "companies",
        "starters",
        "public-sector",
        "researchers",
    }
    assert sum(report["audiences"]["citizens"].values()) == 1500
    assert set(report["audiences"]["citizens"]) == {"nl", "fr", "de", "en"}
    assert report["no_audience"] == 0
    assert 0 < report["only_citizens"] < 40
