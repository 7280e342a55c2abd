"""Erasure reaches everything wavecast wrote, and `contacts show` lists the same places.

After a real send to the embedded outbox (plus a proof, an initiative request, a relay reply on
the ledger, a note and the internal-error log naming the person), `contacts erase` leaves the
address and the name nowhere: not in the SQLite file or its WAL (raw bytes), not in any outbox
file, not in the log, not in any text column (PostgreSQL too); everyone else's files are
untouched.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import pytest
from sqlalchemy import String, Text, insert, inspect, text, update

from audiences.models import Contact
from audiences.normalise import email_hash
from campaign.db import get_engine, utcnow
from campaign.errors import internal_error_log
from campaign.initiative_models import InitiativeRequest
from tests.accounts_setup import TESTER
from tests.cli import wavecast
from tests.sending_setup import add_contacts, approved_campaign
from waves.launch import launch_wave
from waves.models import Delivery, WaveRun
from waves.proofs import send_proofs

# These commands change state: they run as an account with every role (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("signed_in")

ADDRESS = "zulma.target@example.org"
NAME = "Xanthippe"
NEEDLES = (ADDRESS.encode(), NAME.encode(), NAME.lower().encode())


def _add_target() -> int:
    now = utcnow()
    with get_engine().begin() as conn:
        row = {
            "email": ADDRESS,
            "email_hash": email_hash(ADDRESS),
            "first_name": NAME,
            "language": "nl",
            "birth_year": 1980,
            "created_at": now,
            "updated_at": now,
        }
        return int(conn.execute(insert(Contact).values(row).returning(Contact.id)).scalar_one())


def _holds(data: bytes) -> list[bytes]:
    lowered = data.lower()
    return [n for n in NEEDLES if n.lower() in lowered]


def _files(root: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}


def _text_cells_holding(needle: str) -> list[str]:
    engine = get_engine()
    found = []
    with engine.connect() as conn:
        for table in inspect(engine).get_table_names():
            for column in inspect(engine).get_columns(table):
                if not isinstance(column["type"], String | Text):
                    continue
                name = column["name"]
                query = text(f'SELECT COUNT(*) FROM "{table}" WHERE lower("{name}") LIKE :n')  # noqa: S608 - schema names
                if conn.execute(query, {"n": f"%{needle.lower()}%"}).scalar_one():
                    found.append(f"{table}.{name}")
    return found


@pytest.fixture
def sent(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, object]:
    """A wave sent to the outbox for three people and the target, and the target named elsewhere."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # the CLI's internal-error log goes here
    others = add_contacts(3)
    target = _add_target()
    bundle = approved_campaign(tmp_path)
    launch_wave(bundle, "first", TESTER)
    send_proofs(bundle, "first", ADDRESS.upper(), TESTER)  # a proof to the person: found by its To: header
    reply = f"550 5.1.1 <{ADDRESS}>: mailbox of {NAME} is full"
    with get_engine().begin() as conn:
        conn.execute(update(Delivery).where(Delivery.contact_id == target).values(last_error=reply))
        conn.execute(update(WaveRun).values(note=f"paused after a reply about {ADDRESS.upper()}"))
        conn.execute(
            insert(InitiativeRequest).values(
                campaign_id="c",
                initiative_id="i",
                organisation="Org",
                contact_email=ADDRESS,
                title={},
                description={},
                ambition="a",
                url="https://example.org",
                submitted_at=utcnow(),
            )
        )
    internal_error_log().write_text(f"Traceback ...\nUnsafeHeader: To: {ADDRESS!r} ({NAME})\n", encoding="utf-8")
    outbox = tmp_path / "outbox"
    mine = [p for p, data in _files(outbox / "email").items() if _holds(data)]
    assert mine, "the send wrote no file naming the person: the test would prove nothing"
    return {"tmp": tmp_path, "outbox": outbox, "others": others, "target": target, "url": database_url}


def test_show_lists_every_place_as_json_and_as_readable_text(
    sent: dict[str, object], capsys: pytest.CaptureFixture[str]
) -> None:
    tmp = Path(str(sent["tmp"]))
    shown = wavecast(capsys, "contacts", "show", ADDRESS, "--json")
    assert shown.code == 0, shown.err
    record = json.loads(shown.out)
    assert record["email"] == ADDRESS and record["first_name"] == NAME
    assert [m["status"] for m in record["messages"]] == ["sent"]
    assert NAME in record["messages"][0]["last_error"]
    files = [Path(f) for f in record["outbox_files"]]
    assert any(f.parent.name.startswith("run-") for f in files)  # the ledger row's file
    assert any("proofs" in f.parts for f in files)  # the proof, found by its To: header
    assert [r["organisation"] for r in record["initiative_requests"]] == ["Org"]
    assert any(cell.startswith("wave_runs.note") for cell in record["other_database_text"])
    assert record["logs"] == [str(tmp / "wavecast-error.log")]
    readable = wavecast(capsys, "contacts", "show", ADDRESS.upper())
    assert readable.code == 0, readable.err
    for section in (
        "Contact (",
        "Messages (database: deliveries): 1",
        "Outbox files",
        "Initiative requests",
        "Log files",
    ):
        assert section in readable.out
    assert "{'" not in readable.out and "[{" not in readable.out  # not a Python repr


def test_erase_leaves_the_person_nowhere_and_everyone_else_untouched(
    sent: dict[str, object], capsys: pytest.CaptureFixture[str]
) -> None:
    tmp, outbox = Path(str(sent["tmp"])), Path(str(sent["outbox"]))
    sqlite = str(sent["url"]).startswith("sqlite")
    database = tmp / "test.db"
    if sqlite:
        before = database.read_bytes() + Path(f"{database}-wal").read_bytes()
        assert _holds(before), "the database bytes never held the person: the test would prove nothing"
    theirs_before = {p: data for p, data in _files(outbox).items() if not _holds(data)}

    erased = wavecast(capsys, "contacts", "erase", ADDRESS.title())
    assert erased.code == 0, erased.err
    assert "1 ledger row(s) anonymised" in erased.out
    assert ADDRESS not in erased.out + erased.err and NAME not in erased.out + erased.err

    after = _files(outbox)
    assert {str(p): _holds(data) for p, data in after.items() if _holds(data)} == {}
    assert {p: after.get(p) for p in theirs_before} == theirs_before  # others' files unchanged
    assert not _holds(internal_error_log().read_bytes())
    assert _text_cells_holding(ADDRESS) == [] and _text_cells_holding(NAME) == []
    with get_engine().connect() as conn:
        people = conn.execute(text("SELECT COUNT(*) FROM contacts")).scalar_one()
        ledger = conn.execute(
            text("SELECT COUNT(*) FROM deliveries WHERE status = 'sent' AND account IS NULL")
        ).scalar_one()
    assert (people, ledger) == (3, 4)  # the others stay; the counts stay
    if sqlite:
        wal = Path(f"{database}-wal")
        raw = database.read_bytes() + (wal.read_bytes() if wal.exists() else b"")
        assert _holds(raw) == []
    again = wavecast(capsys, "contacts", "show", ADDRESS)
    assert again.code == 1 and "the address was erased" in again.err


@pytest.mark.usefixtures("database_url")
@pytest.mark.parametrize(
    "leftover",
    [
        "proofs/first/women.nl.eml",
        "run-7/123.eml",  # a run whose ledger no longer names anyone
        "run-7/.tmpabc.tmp",  # a half-written file from a crash
        "elsewhere/deep/x.eml",
    ],
)
def test_erase_finds_files_by_their_to_header_when_no_ledger_row_names_them(
    tmp_path: Path, leftover: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    from waves.personal_data import erase_everywhere

    email = tmp_path / "outbox" / "email"
    path = email / leftover
    path.parent.mkdir(parents=True)
    path.write_bytes(f"To: {ADDRESS.upper()}\r\nSubject: hi\r\n\r\nDear {NAME}\r\n".encode())
    other = email / "run-7" / "124.eml"
    other.parent.mkdir(parents=True, exist_ok=True)
    other.write_bytes(b"To: someone@example.org\r\n\r\nBody mentions nothing\r\n")
    result = erase_everywhere(ADDRESS)
    assert (result.held, result.outbox_files) == (False, 1)
    assert not path.exists() and other.read_bytes().startswith(b"To: someone@example.org")
    assert os.listdir(email / "run-7") == ["124.eml"] or leftover.startswith(("proofs", "elsewhere"))
