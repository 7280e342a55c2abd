"""The SMS channel: a wave's text messages through a plain HTTP gateway, one per person.

The gateway is a loopback HTTP server started by the test: a stand-in for a commercial SMS
gateway, which cannot run here. It behaves as such a gateway promises to: a message is handed
to the phone network once per Idempotency-Key, so a retry that carries the same key is
answered without a second SMS, and a retry with a new key would show up as a second one.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import insert, select, update

from audiences.importer import import_contacts
from audiences.models import contact_attributes, contacts
from audiences.tokens import contact_for_token
from campaign.bundle import Bundle, load_bundle
from campaign.db import get_engine, session_scope, utcnow
from campaign.settings import SettingsError, load_settings
from tests.accounts_setup import TESTER
from tests.campaign_copy import copy_campaign, edit
from tests.cli import wavecast_process as wavecast
from tests.conftest import reset_caches
from tests.loopback_http import serving
from tests.sending_setup import add_contacts, always_open
from waves.approval import approve
from waves.launch import launch_wave
from waves.models import Delivery

TOKEN = "gateway-token-0123"


@dataclass
class Gateway:
    requests: list[tuple[dict[str, str], dict[str, str]]] = field(default_factory=list)
    delivered: dict[str, dict[str, str]] = field(default_factory=dict)  # by Idempotency-Key
    answers: dict[str, list[int]] = field(default_factory=dict)  # per number, in turn, then 200
    on_request: Callable[[], None] | None = None

    def sms_per_phone(self) -> Counter[str]:
        return Counter(sms["to"] for sms in self.delivered.values())


@pytest.fixture
def gateway(monkeypatch: pytest.MonkeyPatch) -> Iterator[Gateway]:
    state = Gateway()
    lock = threading.Lock()

    def answer(headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
        sms = json.loads(body)
        key = headers["Idempotency-Key"]
        with lock:
            state.requests.append((headers, sms))
            if state.on_request is not None:
                state.on_request()
                state.on_request = None
            turns = state.answers.get(sms["to"], [])
            code = turns.pop(0) if turns else 200
            if code == 400:
                return code, json.dumps({"error": "number not reachable", "to": sms["to"]}).encode()
            # Handed to the network, then answered: a 500 here is a reply lost after the SMS
            # left, the case the Idempotency-Key exists for.
            state.delivered.setdefault(key, sms)
            return code, b'{"status": "accepted"}' if code < 300 else b"internal error"

    with serving(answer, "/sms") as url:
        monkeypatch.setenv("WAVECAST_SMS_GATEWAY_URL", url)
        monkeypatch.setenv("WAVECAST_SMS_GATEWAY_TOKEN", TOKEN)
        monkeypatch.setenv("WAVECAST_RETRY_BASE_SECONDS", "0.05")
        monkeypatch.setenv("WAVECAST_RETRY_MAX_SECONDS", "0.1")
        reset_caches()
        yield state


def phone(i: int) -> str:
    return f"+32470{i:06d}"


def sms_campaign(tmp_path: Path) -> Bundle:
    """The minimal campaign with its first wave's messages on sms too, approved."""
    camp = copy_campaign(tmp_path)
    edit(camp / "campaign.yaml", "channels: [newsletter, x]", "channels: [newsletter, x, sms]", count=2)
    always_open(camp)
    bundle = load_bundle(camp)
    with session_scope() as session:
        approve(session, bundle, "first", TESTER)
    return bundle


def people(count: int, *, without_phone: int = 0) -> list[int]:
    """`count` contacts (all in the `citizens` audience), each with a phone number but the last
    `without_phone`."""
    ids = add_contacts(count)
    with get_engine().begin() as conn:
        conn.execute(
            insert(contact_attributes),
            [{"contact_id": cid, "name": "phone", "value": phone(cid)} for cid in ids[: count - without_phone]],
        )
    return ids


def sms_rows(run_id: int) -> dict[int, Delivery]:
    query = select(Delivery).where(Delivery.run_id == run_id, Delivery.channel == "sms")
    with session_scope() as session:
        rows = list(session.scalars(query))
        session.expunge_all()
    return {row.contact_id: row for row in rows if row.contact_id is not None}


def test_a_wave_sends_each_contact_one_sms_through_the_gateway(
    tmp_path: Path, database_url: str, gateway: Gateway
) -> None:
    ids = people(31, without_phone=1)
    launched = launch_wave(sms_campaign(tmp_path), "first", TESTER)
    rows = sms_rows(launched.run_id)
    assert sorted(rows) == ids  # one row per person of the wave, even one without a number
    *reached, unreachable = ids
    assert gateway.sms_per_phone() == Counter({phone(cid): 1 for cid in reached})
    assert {rows[cid].status for cid in reached} == {"sent"}
    assert (rows[unreachable].status, rows[unreachable].last_error) == ("skipped", "the contact has no phone number")
    for headers, sms in gateway.requests:
        assert headers["Authorization"] == f"Bearer {TOKEN}"
        cid = int(sms["to"][-6:])
        assert headers["Idempotency-Key"] == sms["reference"] == f"run-{launched.run_id}/{rows[cid].id}"
        greeting, link, stop = sms["text"].split("\n")
        assert greeting.startswith(f"Person{cid - 1}, Hello all (")  # the first name, then the subject
        assert link.startswith("https://example.org/") and "utm_source=sms" in link
        assert contact_for_token(stop.removeprefix("STOP: ").rsplit("/u/", 1)[1]) == cid


def test_a_lost_reply_is_retried_with_its_key_and_makes_no_second_sms(
    tmp_path: Path, database_url: str, gateway: Gateway
) -> None:
    ids = people(3)
    gateway.answers = {phone(ids[0]): [500, 500], phone(ids[2]): [503]}
    launched = launch_wave(sms_campaign(tmp_path), "first", TESTER)
    keys = Counter(headers["Idempotency-Key"] for headers, _ in gateway.requests)
    rows = sms_rows(launched.run_id)
    assert keys == {
        f"run-{launched.run_id}/{rows[ids[0]].id}": 3,
        f"run-{launched.run_id}/{rows[ids[1]].id}": 1,
        f"run-{launched.run_id}/{rows[ids[2]].id}": 2,
    }
    assert gateway.sms_per_phone() == Counter({phone(cid): 1 for cid in ids})
    assert {row.status for row in rows.values()} == {"sent"}


def test_a_refused_sms_fails_alone_with_the_gateway_reply_and_no_number(
    tmp_path: Path, database_url: str, gateway: Gateway
) -> None:
    ids = people(3)
    gateway.answers = {phone(ids[1]): [400]}
    launched = launch_wave(sms_campaign(tmp_path), "first", TESTER)
    rows = sms_rows(launched.run_id)
    assert [rows[cid].status for cid in ids] == ["sent", "failed", "sent"]
    reason = rows[ids[1]].last_error or ""
    assert reason == 'SMS gateway answered 400: {"error": "number not reachable", "to": "[address]"}'
    assert phone(ids[1]).lstrip("+") not in reason
    assert len(gateway.requests) == 3  # a refusal is final: not retried


def test_an_unsubscribed_contact_gets_no_sms(tmp_path: Path, database_url: str, gateway: Gateway) -> None:
    ids = people(4)
    early, late = ids[0], ids[-1]
    with get_engine().begin() as conn:
        conn.execute(update(contacts).where(contacts.c.id == early).values(unsubscribed_at=utcnow()))

    def unsubscribe_the_last() -> None:
        # Arrives while the wave is sending: consent is checked again before each SMS.
        with get_engine().begin() as conn:
            conn.execute(update(contacts).where(contacts.c.id == late).values(unsubscribed_at=utcnow()))

    bundle = sms_campaign(tmp_path)
    gateway.on_request = unsubscribe_the_last
    launched = launch_wave(bundle, "first", TESTER)
    rows = sms_rows(launched.run_id)
    assert early not in rows  # unsubscribed before the launch: not in the wave at all
    assert (rows[late].status, rows[late].last_error) == ("skipped", "consent withdrawn before sending")
    assert gateway.sms_per_phone() == Counter({phone(cid): 1 for cid in ids[1:-1]})


BAD_PHONES = [
    ("0470 12 34 56", "is not in international form"),  # a national number
    ("+32 470 12 34 5x", "may hold only digits after the +"),
    ("+0032470123456", "has a country code starting with 0"),
    ("+32 470", "has 5 digits; an E.164 number has 7 to 15"),
    ("+32 470 12 34 56 78 90 12", "has 17 digits; an E.164 number has 7 to 15"),
    ("+٣٢٤٧٠١٢٣٤٥٦", "may hold only digits after the +"),  # Arabic-Indic digits
    ('"+32 470\n123456"', "may hold only digits after the +"),  # a line break inside the quoted cell
]


@pytest.mark.usefixtures("signed_in")  # the command acts as an account
def test_import_refuses_a_bad_phone_number_at_its_line(tmp_path: Path) -> None:
    lines = ["email,first_name,phone", "good@example.org,Good,+32 470 12 34 56"]
    lines += [f"p{i}@example.org,P{i},{value}" for i, (value, _) in enumerate(BAD_PHONES)]
    csv_file = tmp_path / "contacts.csv"
    csv_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    campaign = Path(__file__).parent / "fixtures" / "minimal"
    result = wavecast("contacts", "import", str(csv_file), "--campaign", str(campaign), cwd=tmp_path)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    errors = result.stderr.splitlines()
    for number, (value, reason) in enumerate(BAD_PHONES):
        line = 3 + number + sum(v.count("\n") for v, _ in BAD_PHONES[:number])
        assert errors[number].startswith(f"contacts.csv:{line}: phone: {reason}"), errors[number]
        assert value.strip('"') not in errors[number]  # the number is personal: never repeated
    assert "nothing imported" in errors[len(BAD_PHONES)]
    with get_engine().connect() as conn:
        assert conn.scalar(select(contacts.c.id)) is None


def test_an_imported_phone_number_is_stored_in_e164(tmp_path: Path) -> None:
    csv_file = tmp_path / "contacts.csv"
    csv_file.write_text("email,phone\na@example.org,+32 (470) 12.34-56\nb@example.org,\n", encoding="utf-8")
    import_contacts(csv_file, languages=("nl", "fr", "de", "en"), tz=ZoneInfo("Europe/Brussels"))
    with get_engine().connect() as conn:
        stored = conn.execute(select(contact_attributes.c.name, contact_attributes.c.value)).all()
    assert stored == [("phone", "+32470123456")]


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("WAVECAST_SMS_GATEWAY_URL", "ftp://gateway.example/sms", "expected a URL starting with http:// or https://"),
        ("WAVECAST_SMS_GATEWAY_URL", "https://gateway.example:0/sms", "port 0 is not a port"),
        ("WAVECAST_SMS_GATEWAY_URL", "https://user:s3cret@gateway.example/sms", "put no user or password in the URL"),
        ("WAVECAST_SMS_GATEWAY_URL", "https://gate way.example/sms", "a URL has no spaces"),
        ("WAVECAST_SMS_GATEWAY_TOKEN", "s3cret token", "visible ASCII characters only"),
        ("WAVECAST_SMS_GATEWAY_TOKEN", "s3cret-tökén", "visible ASCII characters only"),
        ("WAVECAST_SMS_GATEWAY_TOKEN", "s3cret\nX-Injected: 1", "expected one line"),
    ],
)
def test_a_bad_gateway_setting_is_named_and_its_secret_kept(name: str, value: str, message: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings({name: value})
    assert str(caught.value).startswith(name) and message in str(caught.value)
    assert "s3cret" not in str(caught.value)
