"""`wavecast contacts import`: all or nothing, every bad row named by its line, streaming upserts."""

from __future__ import annotations

import shutil
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml
from sqlalchemy import func, select

from audiences.consent import erase, show, unsubscribe_email
from audiences.csv_rows import ImportRejected, RowProblem
from audiences.importer import import_contacts
from audiences.models import contact_attributes, contacts
from campaign.db import get_engine
from tests.cli import wavecast_process as wavecast

# These commands change state: they run as an account with every role (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("signed_in")

MINIMAL = Path(__file__).parent / "fixtures" / "minimal"
HEADER = "email,first_name,language,tags,birth_year,region,organisation_kind,organisation_founded"
BRUSSELS = ZoneInfo("Europe/Brussels")
ALL = ("nl", "fr", "de", "en")


def write(path: Path, *lines: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    return path


def count() -> int:
    with get_engine().connect() as conn:
        return int(conn.execute(select(func.count()).select_from(contacts)).scalar_one())


def run_import(path: Path, **options: object) -> tuple[object, list[RowProblem]]:
    problems: list[RowProblem] = []
    summary = import_contacts(path, languages=ALL, tz=BRUSSELS, on_problem=problems.append, **options)  # type: ignore[arg-type]
    return summary, problems


@pytest.mark.usefixtures("database_url")
def test_bad_rows_import_nothing_and_each_is_named_by_its_line(tmp_path: Path) -> None:
    csv_file = write(
        tmp_path / "contacts.csv",
        HEADER,
        "an@example.org,An,nl,women,1990,flanders,,",
        "not-an-address,Bo,nl,,1990,,,",
        "cas@example.org,Cas,xx,,19x0,,company,2021-13-01",
        "dee@example.org,Dee,fr,,,,,",
    )
    result = wavecast("contacts", "import", str(csv_file), "--campaign", str(MINIMAL), cwd=tmp_path)
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert lines[0].startswith("contacts.csv:3: email: is not a valid email address")
    assert lines[1].startswith("contacts.csv:4: language: 'xx' is not one of the campaign's")
    assert "birth_year: '19x0' is not a year" in lines[1]
    assert "organisation_founded: '2021-13-01' is not an ISO date" in lines[1]
    assert "nothing imported" in lines[2]
    assert "Traceback" not in result.stderr
    assert count() == 0


@pytest.mark.usefixtures("database_url")
def test_rows_written_before_a_late_bad_row_are_rolled_back(tmp_path: Path) -> None:
    rows = [f"p{i}@example.org,P{i},nl,,,,," for i in range(9)]
    csv_file = write(tmp_path / "c.csv", HEADER, *rows, "broken,,,,,,,")
    with pytest.raises(ImportRejected, match="1 bad row"):
        run_import(csv_file, batch_size=2)
    assert count() == 0


@pytest.mark.usefixtures("database_url")
def test_skip_invalid_imports_the_good_rows_and_lists_the_bad(tmp_path: Path) -> None:
    csv_file = write(tmp_path / "c.csv", HEADER, "an@example.org,An,nl,,,,,", "bad,,,,,,,", "bo@example.org,Bo,de,,,,,")
    result = wavecast("contacts", "import", str(csv_file), "--skip-invalid", "--campaign", str(MINIMAL), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr.startswith("c.csv:3: email: is not a valid email address")
    assert "2 new, 0 updated, 1 invalid row(s) skipped" in result.stdout
    assert count() == 2


@pytest.mark.usefixtures("database_url")
def test_dry_run_checks_every_row_and_writes_nothing(tmp_path: Path) -> None:
    good = write(tmp_path / "good.csv", HEADER, "an@example.org,An,nl,,,,,", "bo@example.org,Bo,fr,,,,,")
    result = wavecast("contacts", "import", str(good), "--dry-run", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "2 rows checked: 2 valid, 0 invalid" in result.stdout
    bad = write(tmp_path / "bad.csv", HEADER, "an@example.org,An,nl,,,,,", "x,,,,,,,")
    result = wavecast("contacts", "import", str(bad), "--dry-run", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.startswith("bad.csv:3: ")
    assert count() == 0


@pytest.mark.usefixtures("database_url")
def test_a_file_that_is_not_utf8_is_refused_naming_the_line(tmp_path: Path) -> None:
    csv_file = tmp_path / "latin.csv"
    csv_file.write_bytes(b"email,first_name\nan@example.org,An\nbo@example.org,Ren\xe9e\n")
    result = wavecast("contacts", "import", str(csv_file), cwd=tmp_path)
    assert result.returncode == 1
    assert "latin.csv:3:" in result.stderr and "not UTF-8 (byte 0xe9)" in result.stderr
    assert "Traceback" not in result.stderr
    assert count() == 0


@pytest.mark.usefixtures("database_url")
def test_utf8_with_bom_is_read_and_utf16_is_refused(tmp_path: Path) -> None:
    bom = write(tmp_path / "bom.csv", "email,first_name", "zoe@example.org,Zoë", encoding="utf-8-sig")
    run_import(bom)
    assert show("zoe@example.org")["first_name"] == "Zoë"
    utf16 = write(tmp_path / "wide.csv", "email", "an@example.org", encoding="utf-16")
    with pytest.raises(ImportRejected, match=r"wide.csv:1: the file is UTF-16"):
        run_import(utf16)


@pytest.mark.usefixtures("database_url")
def test_rows_upsert_by_email_case_insensitively_and_the_later_row_wins(tmp_path: Path) -> None:
    first = write(
        tmp_path / "a.csv",
        HEADER,
        "Jan@Example.ORG,Jan,nl,women;AI,1990,Flanders,,",
        "JAN@example.org,Johan,fr,,1991,,,",
    )
    summary, _ = run_import(first)
    assert count() == 1
    record = show("jan@EXAMPLE.org")
    assert (record["email"], record["first_name"], record["language"], record["birth_year"]) == (
        "jan@example.org",
        "Johan",
        "fr",
        1991,
    )
    assert record["tags"] == []
    # A file without a column leaves that column as it is.
    second = write(tmp_path / "b.csv", "email,first_name", "jan@example.org,Jan")
    summary, _ = run_import(second)
    assert (summary.created, summary.updated) == (0, 1)  # type: ignore[attr-defined]
    record = show("jan@example.org")
    assert (record["first_name"], record["birth_year"], record["language"]) == ("Jan", 1991, "fr")


@pytest.mark.usefixtures("database_url")
def test_language_must_be_one_of_the_campaigns(tmp_path: Path) -> None:
    campaign = tmp_path / "two-languages"
    shutil.copytree(MINIMAL, campaign)
    data = yaml.safe_load((campaign / "campaign.yaml").read_text(encoding="utf-8"))
    data["campaign"]["languages"] = ["nl", "fr"]
    (campaign / "campaign.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    csv_file = write(tmp_path / "c.csv", "email,language", "an@example.org,NL", "bo@example.org,de")
    result = wavecast("contacts", "import", str(csv_file), "--campaign", str(campaign), cwd=tmp_path)
    assert result.returncode == 1
    assert "c.csv:3: language: 'de' is not one of the campaign's: nl, fr" in result.stderr
    assert "c.csv:2" not in result.stderr


@pytest.mark.usefixtures("database_url")
@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("first_name,language", "c.csv:1: there is no 'email' column"),
        ("email,Postcode,postcode", "c.csv:1: column 'postcode' appears twice"),
        ("email,Favourite colour", "c.csv:1: column 'favourite colour': a custom attribute name"),
        ("email,,x", "c.csv:1: column 2 has no name"),
    ],
)
def test_a_bad_header_refuses_the_file(tmp_path: Path, header: str, message: str) -> None:
    csv_file = write(tmp_path / "c.csv", header, ",".join(["an@example.org"] + [""] * header.count(",")))
    with pytest.raises(ImportRejected) as caught:
        run_import(csv_file)
    assert message in str(caught.value)
    assert count() == 0


@pytest.mark.usefixtures("database_url")
def test_extra_columns_become_custom_attributes(tmp_path: Path) -> None:
    run_import(write(tmp_path / "a.csv", "email,sector,postcode", "an@example.org,ict,1000"))
    assert show("an@example.org")["attributes"] == {"postcode": "1000", "sector": "ict"}
    run_import(write(tmp_path / "b.csv", "email,sector", "an@example.org,"))
    assert show("an@example.org")["attributes"] == {"postcode": "1000"}


@pytest.mark.usefixtures("database_url")
def test_an_erased_address_is_kept_out_of_a_later_import(tmp_path: Path) -> None:
    csv_file = write(tmp_path / "c.csv", "email,first_name", "gone@example.org,Gone", "an@example.org,An")
    run_import(csv_file)
    erase("Gone@example.org")
    result = wavecast("contacts", "import", str(csv_file), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "1 kept out (on the suppression list: erased, bounced or complained" in result.stdout
    assert count() == 1


@pytest.mark.usefixtures("database_url")
def test_an_import_never_resubscribes_but_may_unsubscribe(tmp_path: Path) -> None:
    run_import(write(tmp_path / "a.csv", "email", "an@example.org", "bo@example.org"))
    unsubscribe_email("an@example.org")
    when = show("an@example.org")["unsubscribed_at"]
    run_import(
        write(tmp_path / "b.csv", "email,unsubscribed_at", "an@example.org,", "bo@example.org,2024-03-01T10:00:00")
    )
    assert show("an@example.org")["unsubscribed_at"] == when
    assert show("bo@example.org")["unsubscribed_at"] == "2024-03-01T09:00:00+00:00"


@pytest.mark.usefixtures("database_url")
def test_a_record_spanning_lines_is_numbered_by_its_first_line(tmp_path: Path) -> None:
    csv_file = write(
        tmp_path / "c.csv",
        "email,first_name,note",
        'an@example.org,An,"first line',
        'second line"',
        "bad,Bo,",
        'cy@example.org,"Cy',
        'Peeters",',
        "worse,Di,",
    )
    _, problems = run_import(csv_file, skip_invalid=True)
    # A line break may stay in a custom attribute, never in a name that reaches a message.
    assert [(p.line, p.message.split(":")[0]) for p in problems] == [(4, "email"), (5, "first_name"), (7, "email")]
    with get_engine().connect() as conn:
        note = conn.scalar(select(contact_attributes.c.value).where(contact_attributes.c.name == "note"))
    assert note == "first line\nsecond line"
