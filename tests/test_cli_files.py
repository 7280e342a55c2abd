"""validate, plan and schema from the command line: exit codes, output shapes, no tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from icalendar import Calendar

from tests.campaign_copy import MINIMAL, copy_campaign, edit
from tests.cli import wavecast
from tests.conftest import ROOT


def test_validate_ok_exits_zero(capsys: pytest.CaptureFixture[str]) -> None:
    result = wavecast(capsys, "validate", "--strict", str(MINIMAL))
    assert result.code == 0, result.err
    assert "ok: 2 waves" in result.out


def test_validate_lists_problems_as_file_line_column(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    camp = copy_campaign(tmp_path)
    monkeypatch.chdir(tmp_path)
    edit(camp / "campaign.yaml", "audiences: [youth]", "audiences: [teens]")
    edit(camp / "campaign.yaml", "    ambition: skills\n", "    ambition: nowhere\n")
    result = wavecast(capsys, "validate", str(camp))
    assert result.code == 1
    lines = [
        line for line in result.err.splitlines() if line.startswith("minimal/campaign.yaml:") and "warning:" not in line
    ]
    assert len(lines) == 2, result.err
    for line in lines:
        _file, row, column, _message = line.split(":", 3)
        assert row.isdigit() and column.isdigit()
    assert "2 error(s) found." in result.err


def test_strict_turns_the_coverage_warning_into_an_error(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    camp = copy_campaign(tmp_path)
    edit(camp / "campaign.yaml", "audiences: [youth]", "audiences: [citizens]")
    relaxed = wavecast(capsys, "validate", str(camp))
    assert relaxed.code == 0 and "warning: audience 'youth' is addressed by no wave" in relaxed.err
    strict = wavecast(capsys, "validate", "--strict", str(camp))
    assert strict.code == 1 and "audience 'youth' is addressed by no wave" in strict.err


def test_plan_json_lists_waves_with_offsets(capsys: pytest.CaptureFixture[str]) -> None:
    result = wavecast(capsys, "plan", str(MINIMAL), "--json")
    assert result.code == 0
    waves = json.loads(result.out)
    assert [w["id"] for w in waves] == ["first", "second"]
    assert waves[0]["start"] == "2023-06-12T10:00:00+02:00"
    assert waves[1]["start"] == "2023-06-19T11:00:00+02:00"
    assert waves[0]["audiences"] == ["youth", "citizens"]
    assert waves[0]["channels"] == ["newsletter", "x"]
    assert waves[0]["languages"] == ["nl", "fr", "de", "en"]
    assert waves[0]["initiatives"] == [{"id": "code-school", "ambition": "skills"}]


def test_plan_table_shows_local_times(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    result = wavecast(capsys, "plan", str(MINIMAL))
    assert result.code == 0
    assert "Mon 12 Jun 2023 10:00 CEST" in result.out
    assert "Code school" in result.out


def test_plan_ics_has_one_event_per_wave(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    target = tmp_path / "plan.ics"
    result = wavecast(capsys, "plan", str(MINIMAL), "--ics", str(target))
    assert result.code == 0
    calendar = Calendar.from_ical(target.read_bytes())
    events = [c for c in calendar.walk("VEVENT")]
    assert [str(e["uid"]) for e in events] == ["mini.first@wavecast", "mini.second@wavecast"]
    assert events[0].decoded("dtstart").isoformat() == "2023-06-12T10:00:00+02:00"


def test_plan_ics_unwritable_target_is_a_clear_error(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    result = wavecast(capsys, "plan", str(MINIMAL), "--ics", str(tmp_path / "missing" / "plan.ics"))
    assert result.code == 1
    assert "cannot write" in result.err


def test_schema_is_json_schema_of_the_campaign(capsys: pytest.CaptureFixture[str]) -> None:
    result = wavecast(capsys, "schema")
    assert result.code == 0
    document = json.loads(result.out)
    assert document["title"] == "wavecast campaign.yaml"
    assert {"schema_version", "campaign", "waves"} <= set(document["required"])
    assert document["additionalProperties"] is False


def test_bad_setting_is_named(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WAVECAST_SEND_LEASE_SECONDS", "soon")
    from campaign.settings import get_settings

    get_settings.cache_clear()
    result = wavecast(capsys, "db", "upgrade")
    assert result.code == 2
    assert "WAVECAST_SEND_LEASE_SECONDS='soon'" in result.err


def test_db_upgrade_then_status(capsys: pytest.CaptureFixture[str]) -> None:
    first = wavecast(capsys, "db", "upgrade")
    assert first.code == 0 and "upgraded" in first.out
    again = wavecast(capsys, "db", "upgrade")
    assert again.code == 0 and "already at revision" in again.out
    status = wavecast(capsys, "db", "status")
    assert "up to date" in status.out


def test_console_script_runs_as_a_process() -> None:
    """The installed entry point works outside pytest, and a broken campaign gives no traceback."""
    result = subprocess.run(
        [sys.executable, "-m", "frontends", "validate", str(ROOT / "nope")], capture_output=True, text=True, check=False
    )
    assert result.returncode == 1
    assert "not a campaign directory" in result.stderr
    assert "Traceback" not in result.stderr
