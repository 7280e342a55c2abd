"""The bulk-scheduling CSVs: one per platform and language (one account each), with the date
written the way the scheduler it is for reads it."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path

import pytest

from tests.campaign_copy import MINIMAL
from tests.cli import wavecast

BRUSSELS = dt.timezone(dt.timedelta(hours=2))  # the minimal campaign's waves are in June: CEST


def preview_out(capsys: pytest.CaptureFixture[str], out: Path, *date_format: str) -> None:
    args = ("--date-format", *date_format) if date_format else ()
    result = wavecast(capsys, "preview", str(MINIMAL), "--out", str(out), *args)
    assert result.code == 0, result.err


def planned(out: Path) -> dict[tuple[str, str], set[tuple[str, dt.datetime]]]:
    """(platform, language) -> {(post text without the link, scheduled time)} from the post files."""
    found: dict[tuple[str, str], set[tuple[str, dt.datetime]]] = {}
    for path in out.glob("*/*.json"):
        post = json.loads(path.read_text(encoding="utf-8"))
        message = "\n\n".join(p for p in (post["body"], " ".join(post["hashtags"])) if p)
        when = dt.datetime.fromisoformat(post["scheduled_at"])
        found.setdefault((post["platform"], post["lang"]), set()).add((message, when))
    return found


def rows_of(path: Path) -> list[list[str]]:
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    assert rows[0] == ["Date", "Message", "Link"]
    return rows[1:]


def test_one_csv_per_platform_and_language_dated_for_hootsuite(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out = tmp_path / "out"
    preview_out(capsys, out, "hootsuite")
    expected = planned(out)
    assert {lang for _, lang in expected} == {"nl", "fr", "de", "en"}
    names = {p.name for p in (out / "social").glob("*.csv")}
    assert names == {f"{platform}.{lang}.csv" for platform, lang in expected}
    for (platform, lang), posts in expected.items():
        rows = rows_of(out / "social" / f"{platform}.{lang}.csv")
        # Day first: 12/06/2023 is the 12th of June, read back in the campaign's local time.
        got = {(r[1], dt.datetime.strptime(r[0], "%d/%m/%Y %H:%M").replace(tzinfo=BRUSSELS)) for r in rows}
        assert got == posts, (platform, lang)
        assert all(f"/{lang}" in r[2] for r in rows), (platform, lang)  # each account links its own language
    index = (out / "index.html").read_text(encoding="utf-8")
    assert 'href="social/x.fr.csv"' in index and 'href="social/x.csv"' not in index


@pytest.mark.parametrize(
    ("choice", "parse"),
    [
        ("iso", dt.datetime.fromisoformat),
        ("buffer", lambda s: dt.datetime.strptime(s, "%Y-%m-%d %H:%M").replace(tzinfo=BRUSSELS)),
        ("hootsuite-us", lambda s: dt.datetime.strptime(s, "%m/%d/%Y %H:%M").replace(tzinfo=BRUSSELS)),
        ("%d.%m.%Y um %H.%M", lambda s: dt.datetime.strptime(s, "%d.%m.%Y um %H.%M").replace(tzinfo=BRUSSELS)),
    ],
)
def test_date_presets_and_patterns_write_the_scheduled_instant(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, choice: str, parse: object
) -> None:
    out = tmp_path / "out"
    preview_out(capsys, out, choice)
    rows = rows_of(out / "social" / "x.de.csv")
    expected = {when for _, when in planned(out)[("x", "de")]}
    assert {parse(r[0]) for r in rows} == expected  # type: ignore[operator]


@pytest.mark.parametrize(
    ("choice", "says"),
    [
        ("gregorian", "--date-format gregorian: not a preset (local, iso, buffer, hootsuite, hootsuite-us)"),
        ("%d/%m %H:%M", "--date-format %d/%m %H:%M: the pattern must write the year, month, day, hour and minute"),
    ],
)
def test_a_bad_date_format_is_one_clear_line_and_writes_nothing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, choice: str, says: str
) -> None:
    out = tmp_path / "out"
    result = wavecast(capsys, "preview", str(MINIMAL), "--out", str(out), "--date-format", choice)
    assert result.code == 1
    assert says in result.err and len(result.err.strip().splitlines()) == 1
    assert not out.exists()


def test_date_format_without_out_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    result = wavecast(capsys, "preview", str(MINIMAL), "--date-format", "iso")
    assert result.code == 1 and "--date-format is for the scheduler CSVs" in result.err
