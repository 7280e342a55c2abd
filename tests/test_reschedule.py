"""Moving a wave to another day rewrites one value of campaign.yaml in place, or refuses with
the reason and leaves the file as it was."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from campaign.bundle import load_bundle
from campaign.reschedule import FileChanged, MoveRefused, file_hash, move_wave
from campaign.timing import resolve_starts
from tests.campaign_copy import copy_campaign, edit


@pytest.fixture
def camp(tmp_path: Path) -> Path:
    root = copy_campaign(tmp_path)
    edit(root / "campaign.yaml", "waves:\n", "waves:\n  # the launch: keep it on a Monday\n")
    return root


def _diff(before: str, after: str) -> list[tuple[str, str]]:
    return [(a, b) for a, b in zip(before.splitlines(), after.splitlines(), strict=True) if a != b]


def test_an_absolute_start_moves_to_the_day_and_keeps_its_time_and_the_comments(camp: Path) -> None:
    before = (camp / "campaign.yaml").read_text()
    moved = move_wave(camp, "first", dt.date(2023, 6, 13), file_hash(camp))
    after = (camp / "campaign.yaml").read_text()
    assert _diff(before, after) == [("    start: 2023-06-12T10:00:00", "    start: 2023-06-13T10:00")]
    assert "# the launch: keep it on a Monday" in after
    assert (
        moved.after.isoformat() == "2023-06-13T10:00:00+02:00"
        and moved.line == after.splitlines().index("    start: 2023-06-13T10:00") + 1
    )
    starts = resolve_starts(load_bundle(camp).spec)
    assert starts["second"].isoformat() == "2023-06-20T11:00:00+02:00"  # it follows, 7 days after


def test_a_relative_start_moves_by_its_days(camp: Path) -> None:
    before = (camp / "campaign.yaml").read_text()
    moved = move_wave(camp, "second", dt.date(2023, 6, 21))
    assert _diff(before, (camp / "campaign.yaml").read_text()) == [
        ('    start: {after: first, days: 7, at: "11:00"}', '    start: {after: first, days: 9, at: "11:00"}')
    ]
    assert moved.after.isoformat() == "2023-06-21T11:00:00+02:00"


@pytest.mark.parametrize(
    ("wave", "day", "reason"),
    [
        ("first", dt.date(2023, 7, 21), "a blackout date (Nationale feestdag)"),
        ("first", dt.date(2023, 6, 17), "outside the send window"),  # a Saturday
        ("second", dt.date(2023, 6, 9), "cannot move before that wave"),
        ("third", dt.date(2023, 6, 9), "no wave 'third'"),
    ],
)
def test_a_move_that_breaks_a_rule_is_refused_and_the_file_is_untouched(
    camp: Path, wave: str, day: dt.date, reason: str
) -> None:
    before = (camp / "campaign.yaml").read_bytes()
    with pytest.raises(MoveRefused) as refused:
        move_wave(camp, wave, day)
    assert reason in str(refused.value)
    assert (camp / "campaign.yaml").read_bytes() == before
    assert [p.name for p in camp.iterdir() if p.name.startswith(".")] == []  # no temporary file left


def test_a_move_made_on_an_older_view_is_refused(camp: Path) -> None:
    seen = file_hash(camp)
    edit(camp / "campaign.yaml", "name: {nl: Mini,", "name: {nl: Mini!,")  # someone else saved
    with pytest.raises(FileChanged):
        move_wave(camp, "first", dt.date(2023, 6, 13), seen)
