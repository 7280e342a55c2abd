"""The push channel: a wave's notifications through a push service's plain HTTP API, one per person.

The push service is a loopback HTTP server started by the test: a stand-in for a real push
service (which cannot run here). It keeps one notification per Idempotency-Key, as such a
service promises, so a retry with the same key shows up as one notification and a retry with
a new key would show up as two.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import insert, select

from audiences.models import contact_attributes
from campaign.bundle import Bundle, load_bundle
from campaign.db import get_engine, session_scope
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

API_TOKEN = "push-api-token-0123"


@dataclass
class PushService:
    requests: list[tuple[dict[str, str], dict[str, str]]] = field(default_factory=list)
    delivered: dict[str, dict[str, str]] = field(default_factory=dict)  # by Idempotency-Key
    fail_first: set[str] = field(default_factory=set)  # device tokens whose first reply is lost (500)

    def per_device(self) -> Counter[str]:
        return Counter(push["to"] for push in self.delivered.values())


@pytest.fixture
def service(monkeypatch: pytest.MonkeyPatch) -> Iterator[PushService]:
    state = PushService()
    lock = threading.Lock()

    def answer(headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
        push = json.loads(body)
        with lock:
            state.requests.append((headers, push))
            state.delivered.setdefault(headers["Idempotency-Key"], push)  # handed on, then answered
            if push["to"] in state.fail_first:
                state.fail_first.discard(push["to"])
                return 500, b"internal error"
            return 202, b'{"status": "queued"}'

    with serving(answer, "/push") as url:
        monkeypatch.setenv("WAVECAST_PUSH_API_URL", url)
        monkeypatch.setenv("WAVECAST_PUSH_API_TOKEN", API_TOKEN)
        monkeypatch.setenv("WAVECAST_RETRY_BASE_SECONDS", "0.05")
        monkeypatch.setenv("WAVECAST_RETRY_MAX_SECONDS", "0.1")
        reset_caches()
        yield state


def device(cid: int) -> str:
    return f"device-token-{cid:08d}"


def push_campaign(tmp_path: Path) -> Bundle:
    camp = copy_campaign(tmp_path)
    edit(camp / "campaign.yaml", "channels: [newsletter, x]", "channels: [newsletter, x, push]", count=2)
    always_open(camp)
    bundle = load_bundle(camp)
    with session_scope() as session:
        approve(session, bundle, "first", TESTER)
    return bundle


def people(count: int, *, without_token: int = 0) -> list[int]:
    ids = add_contacts(count)
    with get_engine().begin() as conn:
        rows = [{"contact_id": cid, "name": "push_token", "value": device(cid)} for cid in ids[: count - without_token]]
        conn.execute(insert(contact_attributes), rows)
    return ids


def push_rows(run_id: int) -> dict[int, Delivery]:
    with session_scope() as session:
        rows = list(session.scalars(select(Delivery).where(Delivery.run_id == run_id, Delivery.channel == "push")))
        session.expunge_all()
    return {row.contact_id: row for row in rows if row.contact_id is not None}


def test_a_wave_sends_each_contact_one_notification(tmp_path: Path, database_url: str, service: PushService) -> None:
    ids = people(5, without_token=1)
    launched = launch_wave(push_campaign(tmp_path), "first", TESTER)
    rows = push_rows(launched.run_id)
    *reached, unreachable = ids
    assert service.per_device() == Counter({device(cid): 1 for cid in reached})
    assert {rows[cid].status for cid in reached} == {"sent"}
    assert (rows[unreachable].status, rows[unreachable].last_error) == ("skipped", "the contact has no device token")
    for headers, push in service.requests:
        cid = int(push["to"][-8:])
        assert headers["Authorization"] == f"Bearer {API_TOKEN}"
        assert headers["Idempotency-Key"] == push["reference"] == f"run-{launched.run_id}/{rows[cid].id}"
        assert push["title"] and push["text"].startswith("Hello all")
        assert push["url"].startswith("https://example.org/") and "utm_medium=push" in push["url"]


def test_a_lost_reply_is_retried_with_its_key_and_makes_no_second_notification(
    tmp_path: Path, database_url: str, service: PushService
) -> None:
    ids = people(3)
    service.fail_first = {device(ids[1])}
    launched = launch_wave(push_campaign(tmp_path), "first", TESTER)
    rows = push_rows(launched.run_id)
    keys = Counter(headers["Idempotency-Key"] for headers, _ in service.requests)
    assert keys[f"run-{launched.run_id}/{rows[ids[1]].id}"] == 2
    assert service.per_device() == Counter({device(cid): 1 for cid in ids})
    assert {row.status for row in rows.values()} == {"sent"}


@pytest.mark.usefixtures("signed_in")  # the command acts as an account
def test_import_refuses_a_bad_device_token_at_its_line(tmp_path: Path) -> None:
    csv_file = tmp_path / "contacts.csv"
    lines = ["email,push_token", "a@example.org,device-token-00000001", "b@example.org,short"]
    csv_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    campaign = Path(__file__).parent / "fixtures" / "minimal"
    result = wavecast("contacts", "import", str(csv_file), "--campaign", str(campaign), cwd=tmp_path)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith("contacts.csv:3: push_token: is not a device token"), result.stderr


def test_a_bad_push_setting_is_named_and_its_secret_kept() -> None:
    with pytest.raises(SettingsError, match=r"^WAVECAST_PUSH_API_URL=.*put no user or password") as caught:
        load_settings({"WAVECAST_PUSH_API_URL": "https://user:s3cret@push.example/send"})
    assert "s3cret" not in str(caught.value)
