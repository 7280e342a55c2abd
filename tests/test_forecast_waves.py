"""`wavecast forecast`: every wave's start and its counts, ages read at each wave's own date."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from audiences.upsert import add_contacts
from tests.cli import wavecast_process as wavecast

MINIMAL = Path(__file__).parent / "fixtures" / "minimal"


def campaign_over_new_year(tmp_path: Path) -> Path:
    """The minimal campaign, its second wave moved into January 2024 and also aimed at youth."""
    target = tmp_path / "campaign"
    shutil.copytree(MINIMAL, target)
    data = yaml.safe_load((target / "campaign.yaml").read_text(encoding="utf-8"))
    second = data["waves"][1]
    second["start"] = {"after": "first", "days": 210, "at": "11:00"}
    second["messages"].insert(
        0, {"id": "young", "audiences": ["youth"], "channels": ["newsletter"], "template": "hello/youth"}
    )
    (target / "campaign.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return target


@pytest.mark.usefixtures("database_url")
def test_forecast_gives_each_waves_start_and_counts_with_ages_at_its_date(tmp_path: Path) -> None:
    add_contacts(
        [
            {"email": "turns-26@example.org", "birth_year": 1998, "language": "fr"},
            {"email": "older@example.org", "birth_year": 1960},
        ]
    )
    result = wavecast("forecast", str(campaign_over_new_year(tmp_path)), "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    first, second = json.loads(result.stdout)["waves"]
    assert (first["id"], first["start"], first["start_utc"]) == (
        "first",
        "2023-06-12T10:00:00+02:00",
        "2023-06-12T08:00:00+00:00",
    )
    assert (second["id"], second["start"], second["start_utc"]) == (
        "second",
        "2024-01-08T11:00:00+01:00",
        "2024-01-08T10:00:00+00:00",
    )

    def counts(wave: dict[str, object]) -> dict[tuple[str, str, str, str], int]:
        return {
            (c["message"], c["audience"], c["language"], c["channel"]): c["count"]  # type: ignore[index]
            for c in wave["counts"]
        }  # type: ignore[attr-defined]

    assert counts(first) == {
        ("young", "youth", "fr", "newsletter"): 1,
        ("young", "youth", "fr", "x"): 1,
        ("all", "citizens", "nl", "newsletter"): 1,
        ("all", "citizens", "nl", "x"): 1,
    }
    assert first["per_channel"] == {"newsletter": 2, "x": 2}
    # In 2024 the contact born in 1998 is 26: no longer youth, so the message for everyone.
    assert counts(second) == {
        ("all", "citizens", "nl", "newsletter"): 1,
        ("all", "citizens", "fr", "newsletter"): 1,
    }
    table = wavecast("forecast", str(campaign_over_new_year(tmp_path / "t")), cwd=tmp_path)
    assert table.returncode == 0, table.stderr
    assert "first: Mon 12 Jun 2023 10:00 CEST (2023-06-12 08:00 UTC)" in table.stdout
