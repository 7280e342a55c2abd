"""`wavecast contacts generate`: synthetic, spread over every audience, about 1% untargeted."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from audiences.coverage import coverage
from audiences.models import contacts
from audiences.synthetic import Generator, generate, write_csv
from campaign.bundle import load_spec
from campaign.db import get_engine
from campaign.timing import resolve_starts
from tests.conftest import SMARTNATION, need

EXAMPLE_DOMAIN = re.compile(r"@(example\.(org|net|com)|[a-z-]+\.example)$")


def _untargeted(p: object, on: dt.date) -> bool:
    """In none of the example's targeted audiences (women, youth, seniors, kinds)."""
    age = None if p.birth_year is None else on.year - p.birth_year  # type: ignore[attr-defined]
    return not (
        "women" in p.tags  # type: ignore[attr-defined]
        or (age is not None and (16 <= age <= 25 or age >= 65))
        or p.organisation_kind in ("company", "public", "academic")  # type: ignore[attr-defined]
    )


@pytest.mark.usefixtures("database_url")
def test_generated_contacts_reach_every_audience_and_about_one_percent_only_citizens() -> None:
    need((SMARTNATION / "campaign.yaml").is_file(), "the example campaign examples/smartnation")
    spec = load_spec(SMARTNATION)[0]
    first = min(resolve_starts(spec).values())
    generate(4000, seed=7, today=first.date())
    for wave_start in sorted(set(resolve_starts(spec).values())):
        with get_engine().connect() as conn:
            cover = coverage(conn, spec, wave_start.date())
        expected = sum(_untargeted(p, wave_start.date()) for p in Generator(7, first.date()).people(4000))
        assert cover.only_citizens == expected
        assert 20 <= cover.only_citizens <= 70  # about 1% of 4000
        assert cover.no_audience == 0
        for audience, per_language in cover.audiences.items():
            assert sum(per_language.values()) > 0, audience
        assert all(n > 0 for n in cover.audiences["citizens"].values())
    with get_engine().connect() as conn:
        regions = set(conn.execute(select(contacts.c.region).distinct()).scalars())
        emails = list(conn.execute(select(contacts.c.email)).scalars())
        total = conn.execute(select(func.count()).select_from(contacts)).scalar_one()
    assert regions == {"flanders", "brussels", "wallonia", "east-belgium"}
    assert total == 4000
    assert all(EXAMPLE_DOMAIN.search(e) for e in emails)


def test_the_same_seed_gives_the_same_people(tmp_path: Path) -> None:
    day = dt.date(2025, 3, 1)
    write_csv(tmp_path / "a.csv", 300, seed=3, today=day)
    write_csv(tmp_path / "b.csv", 300, seed=3, today=day)
    write_csv(tmp_path / "c.csv", 300, seed=4, today=day)
    a, b, c = ((tmp_path / n).read_text(encoding="utf-8") for n in ("a.csv", "b.csv", "c.csv"))
    strip = re.compile(r",[^,]*\n")  # the last column is the consent time
    assert strip.sub("\n", a) == strip.sub("\n", b)
    assert strip.sub("\n", a) != strip.sub("\n", c)
