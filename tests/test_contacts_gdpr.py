"""Contacts and consent: show (access), erase (erasure), unsubscribe, export, the schema."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import String, Text, inspect, select, text

from audiences.consent import erase, show, unsubscribe_email
from audiences.export import export_contacts
from audiences.importer import import_contacts
from audiences.models import suppressions
from audiences.normalise import email_hash
from audiences.upsert import add_contacts
from campaign.db import Base, get_engine
from tests.cli import wavecast_process as wavecast

# These commands change state: they run as an account with every role (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("signed_in")

ALL = ("nl", "fr", "de", "en")


def sample() -> None:
    add_contacts(
        [
            {
                "email": "Sofie.Peeters@Example.org",
                "first_name": "Sofie",
                "language": "nl",
                "tags": ["women", "ai"],
                "birth_year": 1988,
                "region": "flanders",
                "organisation_kind": "company",
                "organisation_name": "Schelde Data BV",
                "organisation_founded": dt.date(2021, 9, 30),
                "consent_source": "event sign-up",
                "consent_at": dt.datetime(2024, 2, 1, 9, 0, tzinfo=dt.UTC),
                "attributes": {"sector": "ict"},
            }
        ]
    )


@pytest.mark.usefixtures("database_url")
def test_show_prints_everything_held_about_one_person(tmp_path: Path) -> None:
    sample()
    result = wavecast("contacts", "show", "SOFIE.PEETERS@example.org", "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["email"] == "sofie.peeters@example.org"
    assert record["tags"] == ["ai", "women"]
    assert record["attributes"] == {"sector": "ict"}
    assert record["consent"] == {"source": "event sign-up", "at": "2024-02-01T09:00:00+00:00"}
    assert record["organisation_founded"] == "2021-09-30"
    assert record["subscribed"] is True and record["unsubscribed_at"] is None
    assert record["unsubscribe_url"].startswith("http://127.0.0.1:8000/u/")
    every_column = {c.name for c in Base.metadata.tables["contacts"].columns} - {"consent_source", "consent_at"}
    assert every_column <= set(record)
    table = wavecast("contacts", "show", "sofie.peeters@example.org", cwd=tmp_path)
    assert "Schelde Data BV" in table.stdout and "sector = ict" in table.stdout


def _tables_mention(address: str) -> list[str]:
    """Every text cell in the database that still holds the address."""
    engine = get_engine()
    found = []
    with engine.connect() as conn:
        for name in inspect(engine).get_table_names():
            columns = [c["name"] for c in inspect(engine).get_columns(name) if isinstance(c["type"], String | Text)]
            for col in columns:
                query = text(f'SELECT COUNT(*) FROM "{name}" WHERE lower("{col}") LIKE :a')  # noqa: S608 - names from the schema
                if conn.execute(query, {"a": f"%{address}%"}).scalar_one():
                    found.append(f"{name}.{col}")
    return found


@pytest.mark.usefixtures("database_url")
def test_erase_removes_the_person_and_keeps_only_a_keyed_hash(tmp_path: Path) -> None:
    sample()
    address = "sofie.peeters@example.org"
    result = wavecast("contacts", "erase", "Sofie.Peeters@example.org", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert _tables_mention(address) == []
    with get_engine().connect() as conn:
        hashes = list(conn.execute(select(suppressions.c.email_hash)).scalars())
    assert hashes == [email_hash(address)]
    assert hashes[0] != hashlib.sha256(address.encode()).hexdigest()  # keyed, not a plain hash
    assert email_hash(address, "another key") != hashes[0]
    shown = wavecast("contacts", "show", address, cwd=tmp_path)
    assert shown.returncode == 1
    assert "no contact holds sofie.peeters@example.org (the address was erased" in shown.stderr
    wavecast("contacts", "export", "out.csv", cwd=tmp_path)
    assert address not in (tmp_path / "out.csv").read_text(encoding="utf-8-sig").lower()


@pytest.mark.usefixtures("database_url")
def test_erasing_an_address_we_do_not_hold_still_suppresses_it(tmp_path: Path) -> None:
    assert erase("never@example.org") is False
    (tmp_path / "c.csv").write_text("email\nnever@example.org\n", encoding="utf-8")
    summary = import_contacts(tmp_path / "c.csv", languages=ALL, tz=ZoneInfo("Europe/Brussels"))
    assert (summary.created, summary.suppressed) == (0, 1)


@pytest.mark.usefixtures("database_url")
def test_an_erased_contacts_id_is_never_given_to_someone_else() -> None:
    first, second = add_contacts([{"email": "a@example.org"}, {"email": "b@example.org"}])
    erase("b@example.org")
    (third,) = add_contacts([{"email": "c@example.org"}])
    assert third > second > first


@pytest.mark.usefixtures("database_url")
def test_unsubscribe_command_is_idempotent(tmp_path: Path) -> None:
    sample()
    first = wavecast("contacts", "unsubscribe", "sofie.peeters@example.org", cwd=tmp_path)
    assert (first.returncode, first.stdout.strip()) == (0, "unsubscribed")
    when = show("sofie.peeters@example.org")["unsubscribed_at"]
    again = wavecast("contacts", "unsubscribe", "Sofie.Peeters@example.org", cwd=tmp_path)
    assert (again.returncode, again.stdout.strip()) == (0, "already unsubscribed")
    assert show("sofie.peeters@example.org")["unsubscribed_at"] == when
    assert unsubscribe_email("sofie.peeters@example.org") is False


@pytest.mark.usefixtures("database_url")
@pytest.mark.parametrize(
    ("command", "message"),
    [
        (("show", "nobody@example.org"), "wavecast: no contact holds nobody@example.org"),
        (("unsubscribe", "nobody@example.org"), "wavecast: no contact holds nobody@example.org"),
        (("erase", "not an address"), "wavecast: 'not an address' is not a valid email address"),
    ],
)
def test_unknown_or_invalid_addresses_get_a_message_not_a_traceback(
    tmp_path: Path, command: tuple[str, ...], message: str
) -> None:
    result = wavecast("contacts", *command, cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.startswith(message)
    assert "Traceback" not in result.stderr


@pytest.mark.usefixtures("database_url")
def test_export_neutralises_formula_cells_and_imports_back_unchanged(tmp_path: Path) -> None:
    add_contacts(
        [
            {
                "email": "a@example.org",
                "first_name": '=HYPERLINK("http://x.example")',
                "tags": ["+1"],
                "organisation_name": "@SUM(A1)",
                "attributes": {"note": "-2+3"},
            },
            {"email": "-dash@example.org", "first_name": "Plain", "birth_year": 1970},
        ]
    )
    unsubscribe_email("-dash@example.org")
    out = tmp_path / "contacts.csv"
    assert export_contacts(out) == 2
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(raw.decode("utf-8-sig").splitlines()))
    assert rows[0]["first_name"] == '\'=HYPERLINK("http://x.example")'
    assert rows[0]["tags"] == "'+1"
    assert rows[0]["organisation_name"] == "'@SUM(A1)"
    assert rows[0]["note"] == "'-2+3"
    assert rows[1]["email"] == "'-dash@example.org"
    assert rows[1]["unsubscribed_at"]
    before = [show(e) for e in ("a@example.org", "-dash@example.org")]
    summary = import_contacts(out, languages=ALL, tz=ZoneInfo("Europe/Brussels"))
    assert (summary.created, summary.updated, summary.invalid) == (0, 2, 0)
    after = [show(e) for e in ("a@example.org", "-dash@example.org")]
    for old, new in zip(before, after, strict=True):
        old.pop("updated_at"), new.pop("updated_at")
        assert old == new


def test_the_migration_builds_the_tables_the_models_describe(database_url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    mine = {"contacts", "contact_tags", "contact_attributes", "suppressions"}
    with get_engine().connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)

    def concerns_mine(diff: object) -> bool:
        shown = repr(diff)
        return any(f"'{name}'" in shown for name in mine)

    assert [d for d in diffs if concerns_mine(d)] == []
