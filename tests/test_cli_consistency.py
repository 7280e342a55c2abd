"""A newcomer's first hour: every problem in one validate run, a plan that reads at 80 columns,
one way to name the campaign, plain flags, "did you mean", and counts in the same words."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from audiences.upsert import add_contacts
from campaign.bundle import load_spec
from campaign.initiative_requests import read_request
from frontends.cli import counting
from frontends.cli.app import command
from frontends.cli.sending import _status_table
from tests.campaign_copy import MINIMAL, copy_campaign, edit, line_of
from tests.cli import wavecast
from tests.conftest import ROOT, reset_caches

EXAMPLE = ROOT / "examples" / "smartnation"
LOCATED = re.compile(r"^(?P<file>[^:\s]+):(?P<line>\d+):(?P<column>\d+): (?P<message>.+)$")


def test_validate_lists_a_bad_zone_an_unknown_audience_and_a_missing_file_in_one_run(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    camp = copy_campaign(tmp_path)
    monkeypatch.chdir(tmp_path)
    yaml_file = camp / "campaign.yaml"
    edit(yaml_file, "  blackout_dates:", "  timezone: Europe/Brusels\n  blackout_dates:")
    edit(yaml_file, "audiences: [youth]", "audiences: [teens]")
    (camp / "messages" / "hello" / "all.fr.md").unlink()
    result = wavecast(capsys, "validate", str(camp))
    assert result.code == 1
    errors = [m for m in map(LOCATED.match, result.err.splitlines()) if m and "warning:" not in m["message"]]
    found = {(m["file"], int(m["line"]), m["message"]) for m in errors}
    assert found == {
        (
            "minimal/campaign.yaml",
            line_of(yaml_file, "timezone:"),
            "campaign.timezone: unknown time zone 'Europe/Brusels'",
        ),
        ("minimal/campaign.yaml", line_of(yaml_file, "audiences: [teens]"), "unknown audience 'teens'"),
        (
            "minimal/campaign.yaml",
            line_of(yaml_file, "template: hello/all"),
            "missing fr text for message 'all': expected minimal/messages/hello/all.fr.md",
        ),
    }, result.err
    assert "3 error(s) found." in result.err


def test_a_wrong_required_value_is_still_reported_alone(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """Nothing can stand in for a wave's start: the schema problem is the whole answer, not a cascade."""
    camp = copy_campaign(tmp_path)
    edit(camp / "campaign.yaml", "start: 2023-06-12T10:00:00", "start: soon")
    result = wavecast(capsys, "validate", str(camp))
    assert result.code == 1
    errors = [m for m in map(LOCATED.match, result.err.splitlines()) if m]
    assert errors and all(m["message"].startswith("waves.0.start") for m in errors), result.err


def _plan(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, columns: int) -> list[str]:
    monkeypatch.setenv("COLUMNS", str(columns))
    result = wavecast(capsys, "plan", str(EXAMPLE), "--as-of", "2023-06-12")
    assert result.code == 0, result.err
    return result.out.splitlines()


def test_plan_at_80_columns_is_one_readable_block_per_wave(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = _plan(capsys, monkeypatch, 80)
    assert max(len(line.rstrip()) for line in lines) <= 80
    waves = [w.id for w in load_spec(EXAMPLE)[0].waves]
    headings = [line.split()[0] for line in lines if line and not line.startswith(" ") and line.split()[0] in waves]
    assert headings == waves
    starts = [line for line in lines if line.startswith("start ")]
    assert starts[0].split(None, 1)[1].rstrip() == "Mon 12 Jun 2023 10:00 CEST (today)"
    # A channel list is whole on its line: never cut into a few letters per line.
    assert any(line.startswith("channels    newsletter, x, linkedin, facebook, instagram, mastodon") for line in lines)


def test_plan_at_200_columns_is_a_table(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    lines = _plan(capsys, monkeypatch, 200)
    header = next(line for line in lines if "Local start" in line)
    assert re.search(r"Wave\s+Local start\s+When\s+Audiences\s+Channels\s+Languages\s+Initiatives", header)
    launch = next(line for line in lines if line.lstrip().startswith("launch "))
    assert "Mon 12 Jun 2023 10:00 CEST" in launch and "today" in launch and "citizens" in launch


def test_the_campaign_is_named_the_same_way_everywhere(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    as_argument = json.loads(wavecast(capsys, "plan", str(MINIMAL), "--json").out)
    assert json.loads(wavecast(capsys, "plan", "--campaign", str(MINIMAL), "--json").out) == as_argument
    assert json.loads(wavecast(capsys, "plan", "-C", str(MINIMAL), "--json").out) == as_argument
    nowhere = wavecast(capsys, "validate")
    assert (
        nowhere.code == 1 and nowhere.err == "wavecast: which campaign? give --campaign DIR or set WAVECAST_CAMPAIGN\n"
    )
    two = wavecast(capsys, "validate", str(MINIMAL), "--campaign", str(tmp_path))
    assert two.code == 1 and "two campaign directories given" in two.err
    monkeypatch.setenv("WAVECAST_CAMPAIGN", str(MINIMAL))
    reset_caches()
    assert json.loads(wavecast(capsys, "plan", "--json").out) == as_argument
    assert wavecast(capsys, "validate").code == 0
    # What is given on the command line wins over the setting.
    other = copy_campaign(tmp_path)
    edit(other / "campaign.yaml", "  - id: second", "  - id: later")
    assert [w["id"] for w in json.loads(wavecast(capsys, "plan", "-C", str(other), "--json").out)] == [
        "first",
        "later",
    ]


def _commands(group: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found: list[tuple[str, ...]] = []
    for name, cmd in group.commands.items():
        path = (*prefix, name)
        found += _commands(cmd, path) if hasattr(cmd, "commands") else [path]
    return found


def test_help_shows_plain_flags_as_flags(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "160")
    commands = _commands(command())
    assert ("plan",) in commands and ("contacts", "import") in commands
    campaign_commands = 0
    for path in commands:
        shown = wavecast(capsys, *path, "--help")
        assert shown.code == 0, path
        assert "--no-" not in shown.out and "<bool>" not in shown.out, (path, shown.out)
        campaign_commands += "--campaign" in shown.out
    assert re.search(r"--json\s+Print a JSON list of waves", wavecast(capsys, "plan", "--help").out)
    assert campaign_commands >= 14


@pytest.mark.parametrize(
    ("option", "typed", "meant"),
    [("--wave", "frist", "first"), ("--audience", "yuoth", "youth"), ("--lang", "NL", "nl"), ("--channel", "X", "x")],
)
def test_an_unknown_value_gets_did_you_mean(
    capsys: pytest.CaptureFixture[str], option: str, typed: str, meant: str
) -> None:
    picked = {"--wave": "first", "--audience": "youth", "--lang": "nl", "--channel": "x", option: typed}
    result = wavecast(capsys, "preview", str(MINIMAL), *(x for pair in picked.items() for x in pair))
    assert result.code == 1
    assert (
        result.err.startswith(f"wavecast: {option} {typed}: unknown ")
        and f"did you mean {option} {meant}?" in result.err
    )
    assert len(result.err.splitlines()) == 1


def test_the_example_ships_a_valid_initiative_request() -> None:
    spec = load_spec(EXAMPLE)[0]
    request, initiative_id, warnings = read_request(EXAMPLE / "initiative-request.yaml", spec)
    assert warnings == [] or warnings == ()
    assert initiative_id not in {i.id for i in spec.initiatives}
    assert set(request.title) == set(spec.campaign.languages) == set(request.description)
    assert request.ambition in {a.id for a in spec.ambitions}


def test_audiences_and_forecast_count_each_channel_in_the_same_words(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    add_contacts([{"email": f"person{i}@example.org", "birth_year": 1960, "language": "nl"} for i in range(3)])
    forecast = wavecast(capsys, "forecast", str(MINIMAL), "--as-of", "2023-06-12")
    audiences = wavecast(capsys, "audiences", str(MINIMAL), "--wave", "first")
    assert forecast.code == 0 and audiences.code == 0, forecast.err + audiences.err
    # MINIMAL's first wave: citizens and youth by newsletter and X, in four languages each.
    line = "newsletter 3 e-mails, x 8 posts for 3 people"
    assert line in forecast.out.replace("\n", " ") and line in audiences.out.replace("\n", " ")
    assert counting.LEGEND in forecast.out and counting.LEGEND in audiences.out
    for shown in (forecast.out, audiences.out):
        assert re.search(r"│ x\s+│\s+3 people │", shown) and re.search(r"│ newsletter\s+│\s+3 e-mails │", shown)


def test_status_counts_posts_and_e_mails_apart() -> None:
    breakdown = [
        {"audience": "citizens", "language": "nl", "channel": "newsletter", "status": "sent", "count": 3},
        {"audience": "citizens", "language": "nl", "channel": "x", "status": "sent", "count": 1},
        {"audience": "citizens", "language": "fr", "channel": "x", "status": "pending", "count": 1},
    ]
    report: dict[str, Any] = {"wave": "first", "state": "running", "note": None, "breaker": None}
    report["breakdown"] = breakdown
    report["totals"] = {"pending": 1, "sending": 0, "sent": 4, "failed": 0, "skipped": 0}
    console = Console(width=120, record=True)
    console.print(_status_table(report))
    text = console.export_text()
    assert re.search(r"│ newsletter │ sent\s+│ 3 e-mails │", text) and re.search(r"│ x\s+│ sent\s+│\s+1 post │", text)
    assert "per channel: newsletter 3 e-mails, x 2 posts" in text
