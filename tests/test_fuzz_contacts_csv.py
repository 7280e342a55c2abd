"""`wavecast contacts import` on generated CSV files: any encoding, BOM, formula cells, the same
address in other letter cases, missing or odd columns, broken quoting, stray bytes.

Every file ends in success or in a clear error with a non-zero exit; never a traceback or an
internal error, and a refused file leaves the contacts exactly as they were.
"""

from __future__ import annotations

import csv
import functools
import io
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from audiences.csv_rows import IGNORED, KNOWN
from audiences.models import contact_attributes, contact_tags, contacts
from campaign.db import get_engine
from frontends.cli import EXIT_INTERNAL
from tests.campaign_copy import MINIMAL
from tests.cli import wavecast
from tests.fuzz_cases import EXAMPLES, counter

COLUMNS = [
    *(c for c in KNOWN if c != "email"),
    *IGNORED,
    "favourite_colour",
    "First_Name",
]
ODD_COLUMNS = ["Email", " email ", "", "e-mail", "1abc", "x" * 70, "language"]
FORMULAS = ["=1+1", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)", '\t=HYPERLINK("x")', "\r=1", "'=already quoted"]


def _email(case: list[bool], n: int) -> str:
    text = f"person{n}@example.org"
    return "".join(c.upper() if i < len(case) and case[i] else c for i, c in enumerate(text))


same_people = st.builds(_email, st.lists(st.booleans(), max_size=20), st.integers(0, 5))  # in any case
emails = st.one_of(
    same_people,
    same_people,
    same_people,
    same_people,
    same_people,
    same_people,
    st.sampled_from(
        [
            "no-at-sign",
            "a@",
            "@example.org",
            "two@@example.org",
            "<p@example.org>",
            "a b@example.org",
            "jürgen@example.org",
            "x@localhost",
            " padded@example.org ",
            "",
            "p@" + "d" * 300 + ".org",
        ]
    ),
)
cells = st.one_of(
    st.sampled_from(
        [
            "",
            "nl",
            "fr",
            "de",
            "en",
            "XX",
            "1990",
            "19x0",
            "1850",
            "2021-09-30",
            "2021-13-01",
            "2024-03-01T09:30:00+01:00",
            "yesterday",
            "women;youth",
            "WOMEN; ;x",
            "company",
            "flanders",
            "Zoë",
            "O'Brien",
            "a,b",
            'say "hi"',
            "line\nbreak",
            "nul\x00byte",
            "sep\u2028arator",
            "esc\x1b[31m",
            "=?utf-8?b?QQ0KQmNjOiB4QHkuYmU=?=",  # an encoded word hiding a line break
            "zoë@example.org",
            "é" * 250,
            "t" * 70,
        ]
    ),
    st.sampled_from(FORMULAS),
    st.text(max_size=30),
)


names = st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), max_size=25)
VALID = {
    "first_name": st.one_of(names, st.sampled_from(FORMULAS[:4])),
    "language": st.sampled_from(["nl", "fr", "de", "en", "NL", "En"]),
    "tags": st.sampled_from(["women", "women;youth", "Youth; starters", ""]),
    "birth_year": st.integers(1930, 2010).map(str),
    "organisation_founded": st.dates().map(str),
    "consent_at": st.sampled_from(["2024-03-01T09:30:00+01:00", "2024-03-01T09:30:00", ""]),
    "unsubscribed_at": st.sampled_from(["", "", "2024-05-01T10:00:00Z"]),
}


def value(name: str) -> st.SearchStrategy[str]:
    """Mostly a value the column accepts, sometimes anything at all."""
    good = VALID.get(name.strip().lower(), names)
    return st.one_of(good, good, good, cells)


@st.composite
def csv_files(draw: st.DrawFn) -> tuple[bytes, str]:
    header = draw(st.lists(st.sampled_from(COLUMNS), max_size=6, unique_by=str.lower))
    if draw(st.integers(0, 9)) < 9:
        header.insert(draw(st.integers(0, len(header))), "email")
    if draw(st.integers(0, 4)) == 0:  # a missing, doubled or badly named column
        header.insert(draw(st.integers(0, len(header))), draw(st.sampled_from(ODD_COLUMNS)))
    rows = []
    for _ in range(draw(st.integers(0, 8))):
        row = [draw(emails) if name.strip().lower() == "email" else draw(value(name)) for name in header]
        if draw(st.integers(0, 9)) == 0:  # a row with a cell too many or too few
            row = row[:-1] if row and draw(st.booleans()) else [*row, "extra"]
        rows.append(row)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=draw(st.sampled_from(["\n", "\r\n"])))
    writer.writerow(header)
    writer.writerows(rows)
    text = buffer.getvalue()
    if draw(st.integers(0, 9)) == 0:  # broken quoting
        text = text.replace(",", ',"', 1)
    if draw(st.integers(0, 9)) == 0:  # blank lines
        text = text.replace("\n", "\n\n", 2)
    encoding = draw(
        st.sampled_from(["utf-8", "utf-8", "utf-8", "utf-8-sig", "utf-8-sig", "utf-16", "latin-1", "cp1252"])
    )
    data = text.encode(encoding, errors="replace")
    if draw(st.integers(0, 14)) == 0:  # a stray byte somewhere
        at = draw(st.integers(0, len(data)))
        data = data[:at] + bytes([draw(st.integers(128, 255))]) + data[at:]
    return data, encoding


def snapshot() -> tuple[list[tuple[object, ...]], ...]:
    with get_engine().connect() as conn:
        return (
            [tuple(r) for r in conn.execute(select(contacts).order_by(contacts.c.id))],
            [tuple(r) for r in conn.execute(select(contact_tags).order_by(*contact_tags.c))],
            [tuple(r) for r in conn.execute(select(contact_attributes).order_by(*contact_attributes.c))],
        )


@functools.cache
def _segment() -> object:
    from campaign.bundle import load_bundle
    from waves.outputs import newsletter_for

    return newsletter_for(load_bundle(MINIMAL), "first", "citizens", "nl")


def assert_everyone_sendable() -> None:
    """One definition of a valid contact: whatever import stored, a message can be built for."""
    with get_engine().connect() as conn:
        stored = conn.execute(
            select(contacts.c.id, contacts.c.email, contacts.c.first_name, contacts.c.organisation_name)
        )
        for contact_id, email, first_name, organisation in stored:
            _segment().personalise(  # type: ignore[attr-defined]
                to=email,
                fields={"first_name": first_name or "", "organisation_name": organisation or ""},
                unsubscribe_url=f"https://example.org/u/{contact_id}",
                message_id=f"<mini.first.{contact_id}.newsletter@example.org>",
            )


def assert_addresses_canonical() -> None:
    """However the file spelled them, one contact per address, stored lower-case."""
    with get_engine().connect() as conn:
        doubled = conn.execute(
            select(func.lower(contacts.c.email)).group_by(func.lower(contacts.c.email)).having(func.count() > 1)
        ).all()
        upper = conn.scalar(select(func.count()).where(contacts.c.email != func.lower(contacts.c.email)))
    assert doubled == [] and upper == 0


@pytest.mark.usefixtures("database_url", "signed_in")
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(file=csv_files(), mode=st.sampled_from([(), (), ("--skip-invalid",), ("--dry-run",)]))
def test_any_csv_imports_or_is_refused_cleanly(
    tmp_path_factory: pytest.TempPathFactory,
    capsys: pytest.CaptureFixture[str],
    request: pytest.FixtureRequest,
    file: tuple[bytes, str],
    mode: tuple[str, ...],
) -> None:
    counter(request.config, "contacts CSV import")["contacts CSV import"] += 1
    data, _encoding = file
    path: Path = tmp_path_factory.mktemp("csv") / "contacts.csv"
    path.write_bytes(data)
    before = snapshot()
    result = wavecast(capsys, "contacts", "import", str(path), "--campaign", str(MINIMAL), *mode)
    assert result.code != EXIT_INTERNAL and "internal error" not in result.err, result.err
    after = snapshot()
    reason = re.sub(r"^.*?contacts\.csv(:\d+)*:? ?", "", result.err.strip().splitlines()[0])[:30] if result.code else ""
    event(f"exit {result.code}{' (written)' if after != before else ''} {reason}")
    if result.code != 0 or "--dry-run" in mode:
        assert after == before, "a refused import or a dry run changed the contacts"
    if result.code != 0:
        assert result.err.strip(), "a refused import must say why"
        assert "contacts.csv" in result.err, f"the message must name the file: {result.err!r}"
    else:
        assert "--dry-run" in mode or len(after[0]) >= len(before[0])
    assert_addresses_canonical()
    assert_everyone_sendable()
