"""A newcomer's first hour: past waves said plainly, --as-of, progress only on a terminal."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from pathlib import Path

import pytest
from rich.console import Console

from campaign.as_of import Today
from frontends.cli import progress
from tests.cli import wavecast

# These commands change state: they run as an account with every role (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("signed_in")

ROOT = Path(__file__).resolve().parent.parent
MINIMAL = ROOT / "tests" / "fixtures" / "minimal"  # waves: first Mon 12 Jun 2023, second Mon 19 Jun 2023


def test_plan_says_the_waves_lie_in_the_past_and_keeps_json_clean(capsys: pytest.CaptureFixture[str]) -> None:
    result = wavecast(capsys, "plan", str(MINIMAL), "--json")
    assert result.code == 0
    assert [w["id"] for w in json.loads(result.out)] == ["first", "second"]  # stdout is JSON only
    notice = result.err.strip().splitlines()
    assert len(notice) == 1, result.err
    assert notice[0].startswith("note: all 2 waves lie in the past (today, ")
    assert ": first, second;" in notice[0]
    assert "add --as-of 2023-06-12" in notice[0]


def test_as_of_shifts_what_plan_calls_past_today_and_upcoming(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "250")
    launch_day = wavecast(capsys, "plan", str(MINIMAL), "--as-of", "2023-06-12")
    assert launch_day.code == 0
    assert launch_day.err == ""  # nothing lies before the launch day
    assert "when: as of 2023-06-12" in launch_day.out
    assert _standings(launch_day.out) == ["today", "upcoming"]

    a_week_on = wavecast(capsys, "plan", str(MINIMAL), "--as-of", "2023-06-19")
    assert _standings(a_week_on.out) == ["past", "today"]
    assert a_week_on.err.startswith("note: 1 of 2 waves lies in the past (as of 2023-06-19): first;")
    assert "--as-of 2023" not in a_week_on.err  # given already: no hint to give it


def _standings(table: str) -> list[str]:
    """What the plan calls each wave, read next to its local start (wide table or blocks)."""
    return re.findall(r"Jun 2023 1[01]:00 CEST\W+(past|today|upcoming)", table)


def test_as_of_shifts_what_forecast_calls_due(capsys: pytest.CaptureFixture[str]) -> None:
    result = wavecast(capsys, "forecast", str(MINIMAL), "--as-of", "2023-06-15")
    assert result.code == 0
    assert "first: Mon 12 Jun 2023 10:00 CEST (2023-06-12 08:00 UTC), past (as of 2023-06-15)" in result.out
    assert "second: Mon 19 Jun 2023 11:00 CEST (2023-06-19 09:00 UTC), upcoming (as of 2023-06-15)" in result.out
    assert result.err.startswith("note: 1 of 2 waves lies in the past (as of 2023-06-15): first;")
    as_json = wavecast(capsys, "forecast", str(MINIMAL), "--json", "--as-of", "2023-06-12")
    assert [w["id"] for w in json.loads(as_json.out)["waves"]] == ["first", "second"]
    assert as_json.err == ""


def test_a_bad_as_of_is_a_one_line_error(capsys: pytest.CaptureFixture[str]) -> None:
    result = wavecast(capsys, "plan", str(MINIMAL), "--as-of", "12/06/2023")
    assert result.code == 1
    assert result.err == "wavecast: --as-of '12/06/2023': not a date; give it as YYYY-MM-DD, e.g. 2023-10-10\n"


def test_send_says_a_late_wave_is_sent_now() -> None:
    tz = dt.timezone(dt.timedelta(hours=2), "CEST")
    start = dt.datetime(2023, 6, 12, 10, 0, tzinfo=tz)
    late = Today(dt.date(2026, 1, 5), False).late_launch_notice("launch", start)
    assert (
        late == "note: wave launch was planned for Mon 12 Jun 2023 10:00 CEST, "
        "in the past (today, 2026-01-05); it is sent now"
    )
    assert Today(dt.date(2023, 6, 12), True).late_launch_notice("launch", start) is None


def test_progress_is_drawn_on_a_terminal_only(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    piped = wavecast(capsys, "contacts", "generate", "300", "--campaign", str(MINIMAL))
    assert piped.code == 0
    assert piped.out == "300 synthetic contacts: 300 new, 0 updated\n"
    assert piped.err == ""

    # The same command with stderr on a terminal draws the bar there. (Rich's own terminal
    # detection decides in real use; a child process on a pseudo-terminal costs seconds the
    # suite does not have, so the console is told it is a terminal.)
    terminal = io.StringIO()
    monkeypatch.setattr(progress, "console", Console(file=terminal, force_terminal=True, width=120))
    drawn = wavecast(capsys, "contacts", "generate", "300", "--seed", "2", "--campaign", str(MINIMAL))
    assert drawn.code == 0 and drawn.out == "300 synthetic contacts: 300 new, 0 updated\n"
    assert "generating contacts" in terminal.getvalue()
    assert "300/300" in terminal.getvalue()


def test_long_commands_draw_bars_on_a_terminal(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """preview --out, report and the embedded send draw a bar of how far they are (the totals
    are known: segments, the report's steps, the wave's ledger); piped, they print only results."""
    from tests.sending_setup import add_contacts, approved_campaign

    add_contacts(200)
    bundle = approved_campaign(tmp_path)
    piped = wavecast(capsys, "preview", str(bundle.root), "--out", str(tmp_path / "p1"))
    assert piped.code == 0 and piped.err == ""
    terminal = io.StringIO()
    monkeypatch.setattr(progress, "console", Console(file=terminal, force_terminal=True, width=120))

    drawn = wavecast(capsys, "preview", str(bundle.root), "--out", str(tmp_path / "p2"))
    assert drawn.code == 0 and drawn.out.replace("p2", "p1") == piped.out
    files = json.loads((tmp_path / "p1" / "manifest.json").read_text())["files"]
    segments = len({f["file"].rsplit(".", 1)[0] for f in files})  # one output: .html .txt .eml, or .json
    shown = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", terminal.getvalue())  # the text, without colours
    assert "rendering every message" in shown and "writing into" in shown
    assert f" {segments}/{segments} " in shown

    sent = wavecast(capsys, "send", str(bundle.root), "--wave", "first")
    assert sent.code == 0 and "sending wave first" in terminal.getvalue()
    report = wavecast(capsys, "report", str(bundle.root), "--format", "json")
    assert report.code == 0 and json.loads(report.out)["campaign"]
    assert "counting the report" in terminal.getvalue()
