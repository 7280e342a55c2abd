"""One bad recipient never fails the others: each message is built and sent inside its own
failure boundary, and import refuses whatever could not be sent.

The poison rows are written straight into the contacts table, as rows stored before a rule
existed or by other means would be: the send path must cope with them one by one.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select, update

from audiences.models import Contact
from campaign.db import get_engine
from tests.accounts_setup import TESTER
from tests.conftest import reset_caches
from tests.sending_setup import add_contacts, approved_campaign
from tests.smtp_sink import SmtpSink
from tests.worker_process import WorkerProcess, service_env
from waves.models import Delivery

pytestmark = pytest.mark.services

TOTAL = 120
_ENCODED_BREAK = "=?utf-8?b?" + base64.b64encode(b"Ann\r\nBcc: all@example.org").decode() + "?="
# (field, value) written over a valid contact; each makes that one message impossible to build.
POISON_FIELDS = {
    7: ("first_name", "Ann\nBcc: everyone@example.org"),
    19: ("first_name", "Ann\u2028Peeters"),
    33: ("first_name", "Ann\x01Peeters"),
    41: ("first_name", _ENCODED_BREAK),
    58: ("organisation_name", "Acme\r\nX-Injected: yes"),
    64: ("email", "two words@example.org"),
    77: ("first_name", "N" * 600),
}
UTF8_MAILBOX = 90  # zoë-style mailbox name: fine with SMTPUTF8, unaddressable without it
IDN_DOMAIN = 95  # an ASCII mailbox at an internationalised domain: goes out either way (IDNA)


def _poison(ids: list[int], *, long_names: bool) -> dict[int, str]:
    """Spoil some contacts in place; returns {contact id: the address the row now has}."""
    spoiled: dict[int, str] = {}
    with get_engine().begin() as conn:
        for index, (field, value) in POISON_FIELDS.items():
            if field == "first_name" and len(value) > 200 and not long_names:
                continue  # PostgreSQL keeps its own column limit: such a row cannot exist there
            conn.execute(update(Contact).where(Contact.id == ids[index]).values({field: value}))
            spoiled[ids[index]] = value if field == "email" else f"person{index}@example.org"
        conn.execute(update(Contact).where(Contact.id == ids[UTF8_MAILBOX]).values(email="zoë90@example.org"))
        conn.execute(update(Contact).where(Contact.id == ids[IDN_DOMAIN]).values(email="person95@bücher.example"))
    return spoiled


def _outcome(run_id: int) -> dict[int, tuple[str, str | None]]:
    with get_engine().connect() as conn:
        rows = conn.execute(
            select(Delivery.contact_id, Delivery.status, Delivery.last_error).where(
                Delivery.run_id == run_id, Delivery.account.is_(None)
            )
        ).all()
    return {contact_id: (status, error) for contact_id, status, error in rows}


@pytest.fixture
def relay(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[SmtpSink]:
    sink = SmtpSink(smtputf8=request.param)
    sink.start()
    monkeypatch.setenv("WAVECAST_SMTP_URL", sink.url)
    monkeypatch.setenv("WAVECAST_ALLOW_INSECURE_RELAY", "1")  # a loopback test relay, plain http links
    reset_caches()
    try:
        yield sink
    finally:
        sink.stop()


def _check_wave(sink: SmtpSink, run_id: int, ids: list[int], spoiled: dict[int, str]) -> None:
    outcome = _outcome(run_id)
    assert len(outcome) == TOTAL
    utf8 = ids[UTF8_MAILBOX]
    failed = {cid for cid, (status, _) in outcome.items() if status == "failed"}
    expected_failed = set(spoiled) | (set() if sink.smtputf8 else {utf8})
    assert failed == expected_failed, {cid: outcome[cid] for cid in failed ^ expected_failed}
    assert {status for cid, (status, _) in outcome.items() if cid not in failed} == {"sent"}
    received = sink.by_recipient()
    valid = {f"person{i}@example.org" for i, cid in enumerate(ids) if cid not in expected_failed | {utf8}}
    valid = (valid - {"person95@example.org"}) | {"person95@xn--bcher-kva.example"}
    assert valid <= set(received), f"valid people got nothing: {sorted(valid - set(received))[:5]}"
    assert all(len(copies) == 1 for copies in received.values())
    assert not {address.lower() for address in spoiled.values()} & set(received)
    if sink.smtputf8:
        assert "zoë90@example.org" in received
        assert received["zoë90@example.org"][0].parsed()["To"] == "zoë90@example.org"
    else:
        assert "SMTPUTF8" in (outcome[utf8][1] or "")
    for cid in failed:
        reason = outcome[cid][1] or ""
        assert reason, f"contact {cid} failed without a reason"
        assert "Traceback" not in reason
        # The reason names the problem, never the person's values.
        assert "Ann" not in reason and "example.org" not in reason and "Acme" not in reason, reason


@pytest.mark.parametrize("relay", [False, True], ids=["no-smtputf8", "smtputf8"], indirect=True)
def test_poison_rows_fail_alone_and_everyone_else_gets_the_wave(
    database_url: str, relay: SmtpSink, tmp_path: Path
) -> None:
    from waves.launch import launch_wave

    ids = add_contacts(TOTAL)
    spoiled = _poison(ids, long_names=database_url.startswith("sqlite"))
    bundle = approved_campaign(tmp_path)
    launched = launch_wave(bundle, "first", TESTER)  # embedded: the chunks run in this process
    _check_wave(relay, launched.run_id, ids, spoiled)


@pytest.mark.parametrize("relay", [False], ids=["no-smtputf8"], indirect=True)
def test_a_celery_worker_keeps_sending_past_poison_rows(
    database_url: str, redis_url: str, relay: SmtpSink, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same wave through a real worker process: no task dies, no row is left `sending`."""
    from waves.launch import launch_wave

    monkeypatch.setenv("WAVECAST_BROKER_URL", redis_url)
    monkeypatch.setenv("WAVECAST_CHUNK_SIZE", "50")
    reset_caches()
    ids = add_contacts(TOTAL)
    spoiled = _poison(ids, long_names=database_url.startswith("sqlite"))
    bundle = approved_campaign(tmp_path)
    worker = WorkerProcess(service_env(), tmp_path / "worker.log")
    worker.start()
    try:
        launched = launch_wave(bundle, "first", TESTER)
        from tests.test_sending import wait_until_settled

        wait_until_settled(launched.run_id, timeout=120)
    finally:
        worker.stop()
    _check_wave(relay, launched.run_id, ids, spoiled)
    log = (tmp_path / "worker.log").read_text(encoding="utf-8", errors="replace")
    for address in spoiled.values():
        assert address not in log
    assert "Ann\n" not in log and "Acme" not in log


# ---------------------------------------------------------------------------- import: one definition

# (column, cell) pairs that cannot be stored or sent; each must be refused at its row and field.
REFUSED_CELLS = [
    ("first_name", '"Ann\nBcc: all@example.org"'),
    ("first_name", '"Ann\r\nPeeters"'),
    ("first_name", "Ann\u2028Peeters"),
    ("first_name", "Ann\u0085Peeters"),
    ("first_name", "Ann\x00Peeters"),
    ("first_name", "Ann\x1bPeeters"),
    ("first_name", _ENCODED_BREAK),
    ("first_name", "N" * 201),
    ("organisation_name", '"Acme\nX-Injected: yes"'),
    ("organisation_name", "O" * 301),
    ("region", "brus\x00sels"),
    ("tags", "women;yo\x00uth"),
    ("consent_source", "web\x00form"),
    ("email", "a\x00b@example.org"),
    ("email", "two words@example.org"),
    ("email", "ann@exa mple.org"),
    ("email", "ann@-bad-.example"),
]
HEADER = "email,first_name,language,tags,region,organisation_name,consent_source"


def _csv_row(column: str, cell: str, index: int) -> str:
    values = {"email": f"row{index}@example.org", "first_name": "Ann", "language": "nl", "tags": "women"}
    values.update({"region": "", "organisation_name": "", "consent_source": ""})
    values[column] = cell
    return ",".join(values[name] for name in HEADER.split(","))


@pytest.mark.usefixtures("database_url")
def test_import_refuses_every_unsendable_value_at_its_row_and_field(tmp_path: Path) -> None:
    from zoneinfo import ZoneInfo

    from audiences.csv_rows import ImportRejected, RowProblem
    from audiences.importer import import_contacts

    lines = [HEADER, "good1@example.org,Zoë,fr,women,,Acme ' s,web"]
    expected: dict[int, str] = {}
    for index, (column, cell) in enumerate(REFUSED_CELLS):
        expected[len(lines) + 1 + sum(line.count("\n") for line in lines)] = column
        lines.append(_csv_row(column, cell, index))
    lines.append("zoë@example.org,Zoë,de,,,,")  # an internationalised mailbox is a valid contact
    path = tmp_path / "poison.csv"
    path.write_bytes(("\n".join(lines) + "\n").encode("utf-8"))
    problems: list[RowProblem] = []

    def run(**options: object) -> object:
        problems.clear()
        return import_contacts(
            path,
            languages=("nl", "fr", "de", "en"),
            tz=ZoneInfo("Europe/Brussels"),
            on_problem=problems.append,
            **options,  # type: ignore[arg-type]
        )

    with pytest.raises(ImportRejected):
        run()
    assert {p.line: p.message.split(":", 1)[0] for p in problems} == expected, [str(p) for p in problems]
    for problem in problems:
        assert f"poison.csv:{problem.line}: {expected[problem.line]}: " in str(problem)
        assert "Ann" not in problem.message and "Peeters" not in problem.message
    summary = run(skip_invalid=True)
    assert summary.invalid == len(REFUSED_CELLS)  # type: ignore[attr-defined]
    with get_engine().connect() as conn:
        stored = set(conn.scalars(select(Contact.email)))
    assert stored == {"good1@example.org", "zoë@example.org"}


@pytest.mark.usefixtures("database_url")
def test_what_import_accepts_can_be_built(tmp_path: Path) -> None:
    """Longest accepted values, non-ASCII names and mailboxes: imported, then each builds a message."""
    from email import message_from_bytes, policy
    from zoneinfo import ZoneInfo

    from audiences.importer import import_contacts
    from waves.outputs import newsletter_for

    accepted = [
        ("ann@example.org", "A" * 200, "O" * 300),
        ("zoë@bücher.example", "Zoë éè \U0001f600", 'Café \' "" < > & ='),
        ("x@example.org", "=?utf-8?q?not_a_word", "One line, no tab"),
    ]
    path = tmp_path / "accepted.csv"
    rows = [f'{email},"{name}","{organisation}",nl' for email, name, organisation in accepted]
    path.write_text("email,first_name,organisation_name,language\n" + "\n".join(rows) + "\n", encoding="utf-8")
    import_contacts(path, languages=("nl",), tz=ZoneInfo("Europe/Brussels"))
    bundle = approved_campaign(tmp_path)
    segment = newsletter_for(bundle, "first", "citizens", "nl")
    with get_engine().connect() as conn:
        stored = conn.execute(select(Contact.email, Contact.first_name, Contact.organisation_name)).all()
    assert len(stored) == len(accepted)
    for email, first_name, organisation in stored:
        raw = segment.personalise(
            to=email,
            fields={"first_name": first_name, "organisation_name": organisation},
            unsubscribe_url="https://example.org/u/token",
            message_id="<c.w.1.newsletter@example.org>",
        )
        parsed = message_from_bytes(raw, policy=policy.SMTP)
        assert first_name in parsed.get_body(("plain",)).get_content()
