"""`wavecast doctor`: the bulk-sender preflight, and approval refusing on a failing check.

The relay is an address on loopback (`free_port()`); the doctor reads the settings and never
connects to it. DNS is given as a records file, as on a machine that cannot reach the internet's.
"""

from __future__ import annotations

import base64
import json
import re
import warnings
from dataclasses import replace
from functools import cache
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import insert, select

from campaign.db import get_engine, session_scope, utcnow
from campaign.settings import get_settings
from tests.accounts_setup import account_with_token
from tests.campaign_copy import copy_campaign
from tests.cli import wavecast
from tests.conftest import SMARTNATION, free_port, reset_caches
from tests.sending_setup import add_contacts
from waves import doctor
from waves.bounces.models import bounce_events
from waves.models import SENT, Approval, Delivery, WaveRun

DOMAIN = "bosa.fgov.be"  # the example campaign's From domain
MINIMAL_DOMAIN = "example.org"  # the test campaign's
SELECTOR = "wave2024"


@cache
def rsa_key(bits: int) -> rsa.RSAPrivateKey:
    """A key of `bits` bits, made once per test process (2048 bits take a tenth of a second)."""
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def write_key(path: Path, key: rsa.RSAPrivateKey) -> Path:
    path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return path


def statuses(checks: list[dict[str, str]]) -> dict[str, str]:
    return {c["name"]: c["status"] for c in checks}


@pytest.fixture
def relay(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A relay and everything the bulk-sender rules ask for, except an https base URL; returns
    the records file that publishes the DKIM key, SPF and DMARC."""
    key_file = write_key(tmp_path / "dkim.pem", rsa_key(2048))
    public = (
        rsa_key(2048)
        .public_key()
        .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    p = base64.b64encode(public).decode()
    records = tmp_path / "records.zone"
    records.write_text(
        "".join(
            f"; {domain}, pasted from the DNS provider's page\n"
            f'{SELECTOR}._domainkey.{domain}. 3600 IN TXT ( "v=DKIM1; k=rsa; "\n'
            f'    "p={p[:200]}" "{p[200:]}" )\n'
            f'{domain} TXT "v=spf1 include:_spf.relay.example -all"\n'
            f'_dmarc.{domain} TXT "v=DMARC1; p=quarantine; rua=mailto:dmarc@{domain}"\n'
            for domain in (DOMAIN, MINIMAL_DOMAIN)
        ),
        encoding="utf-8",
    )
    monkeypatch.setenv("WAVECAST_SMTP_URL", f"smtp://127.0.0.1:{free_port()}")
    monkeypatch.setenv("WAVECAST_ALLOW_INSECURE_RELAY", "1")  # past the settings' own guard
    monkeypatch.setenv("WAVECAST_SECRET_KEY", "a-secret-of-this-installation")
    monkeypatch.setenv("WAVECAST_DKIM_KEY_FILE", str(key_file))
    monkeypatch.setenv("WAVECAST_DKIM_SELECTOR", SELECTOR)
    monkeypatch.setenv("WAVECAST_RATE_PER_SECOND", "10")
    monkeypatch.setenv("COLUMNS", "300")  # the tables unwrapped
    reset_caches()
    return records


def test_the_example_fails_on_an_http_base_url_with_a_relay(relay: Path, capsys: pytest.CaptureFixture[str]) -> None:
    table = wavecast(capsys, "doctor", str(SMARTNATION), "--records", str(relay))
    assert table.code == 1
    assert re.search(r"│ one-click unsubscribe\s*│ fail", table.out) and "1 fail" in table.out
    result = wavecast(capsys, "doctor", str(SMARTNATION), "--records", str(relay), "--json")
    assert result.code == 1
    checks = json.loads(result.out)
    found = {c["name"]: c for c in checks}
    assert all(set(c) == {"name", "status", "found", "fix"} for c in checks)
    assert [c["name"] for c in checks if c["status"] == "fail"] == ["one-click unsubscribe"]
    assert "http://127.0.0.1:8000/u/" in found["one-click unsubscribe"]["found"]
    assert "WAVECAST_BASE_URL" in found["one-click unsubscribe"]["fix"]
    # The same findings are warnings only on the embedded default: nothing reaches anyone there.
    embedded = doctor.run(SMARTNATION, replace(get_settings(), smtp=None, smtp_url=None))
    assert not doctor.failing(embedded)


def test_the_example_passes_when_set_up_for_bulk_sending(
    relay: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WAVECAST_BASE_URL", "https://campaign.example.be")
    reset_caches()
    result = wavecast(capsys, "doctor", str(SMARTNATION), "--records", str(relay), "--json")
    assert result.code == 0, result.out
    checks = json.loads(result.out)
    assert statuses(checks) == {
        "one-click unsubscribe": "pass",
        "secret key": "pass",
        "relay rate limit": "pass",
        "DKIM key": "pass",
        "DKIM record": "pass",
        "SPF": "pass",
        "DMARC": "pass",
        "bounce history": "pass",
    }
    found = {c["name"]: c["found"] for c in checks}
    assert "under the DKIM signature" in found["one-click unsubscribe"]
    assert f"d={DOMAIN}" in found["DKIM key"]
    assert "no history yet" in found["bounce history"]
    assert "a-secret-of-this-installation" not in result.out


def test_a_key_that_is_not_the_published_one_fails(
    relay: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("WAVECAST_DKIM_KEY_FILE", str(write_key(tmp_path / "other.pem", rsa_key(1024))))
    monkeypatch.setenv("WAVECAST_BASE_URL", "https://campaign.example.be")
    reset_caches()
    checks = {c.name: c for c in doctor.run(SMARTNATION, get_settings(), relay)}
    assert checks["DKIM record"].status == doctor.Status.FAIL
    assert "not the public half" in checks["DKIM record"].found
    assert checks["DKIM record"].fix.startswith(f"publish {SELECTOR}._domainkey.{DOMAIN} TXT")
    # A key that cannot be read stops every other command at start-up; the doctor reports it.
    monkeypatch.setenv("WAVECAST_DKIM_KEY_FILE", str(tmp_path / "missing.pem"))
    reset_caches()
    result = wavecast(capsys, "doctor", str(SMARTNATION), "--records", str(relay), "--json")
    assert result.code == 1
    failed = {c["name"]: c["found"] for c in json.loads(result.out) if c["status"] == "fail"}
    assert list(failed) == ["DKIM key"] and "WAVECAST_DKIM_KEY_FILE" in failed["DKIM key"]


def test_a_malformed_records_line_is_one_error_naming_file_and_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    records = tmp_path / "records.zone"
    records.write_text(f'{DOMAIN} TXT "v=spf1 -all"\n_dmarc.{DOMAIN} TXT v=DMARC1; p=none\n', encoding="utf-8")
    result = wavecast(capsys, "doctor", str(SMARTNATION), "--records", str(records))
    assert result.code == 1
    assert result.out == ""
    assert result.err.count("\n") == 1
    assert f"{records}:2: " in result.err and "double quotes" in result.err


@pytest.mark.usefixtures("signed_in")
def test_approve_refuses_on_a_fail_and_records_an_override(
    relay: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    camp = str(copy_campaign(tmp_path))
    refused = wavecast(capsys, "approve", camp, "--wave", "first")
    assert refused.code == 1
    assert "one-click unsubscribe" in refused.err and "--override-doctor" in refused.err
    with session_scope() as session:
        assert session.scalars(select(Approval)).all() == []
    reason = "proofs to the team's own mailboxes only"
    accepted = wavecast(capsys, "approve", camp, "--wave", "first", "--override-doctor", reason)
    assert accepted.code == 0, accepted.err
    with session_scope() as session:
        (row,) = session.scalars(select(Approval)).all()
        assert row.doctor_override == f"{reason} (failing: one-click unsubscribe)"
    trail = wavecast(capsys, "approvals", camp)
    assert trail.code == 0
    assert f"{reason} (failing: one-click unsubscribe)" in trail.out


def test_the_dashboard_applies_the_same_rule(relay: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from frontends.web.app import create_app

    with warnings.catch_warnings():
        from starlette.exceptions import StarletteDeprecationWarning

        warnings.simplefilter("ignore", StarletteDeprecationWarning)
        from fastapi.testclient import TestClient

    reset_caches()
    account_with_token("operator-token")
    camp = copy_campaign(tmp_path)
    auth = {"Authorization": "Bearer operator-token"}
    with TestClient(create_app(camp), client=("127.0.0.1", 50123), base_url="http://127.0.0.1") as client:
        token = client.get("/api/csrf").json()["csrf_token"]
        form = {"csrf_token": token}
        refused = client.post("/waves/first/approve", data=form, headers=auth, follow_redirects=False)
        assert refused.status_code == 400
        assert "one-click unsubscribe" in refused.text and "Override the doctor" in refused.text
        form["override_doctor"] = "test relay"
        accepted = client.post("/waves/first/approve", data=form, headers=auth, follow_redirects=False)
        assert accepted.status_code == 303
    with session_scope() as session:
        assert [r.doctor_override for r in session.scalars(select(Approval))] == [
            "test relay (failing: one-click unsubscribe)"
        ]


def _history(sent: int, hard: int, complaints: int) -> None:
    """`sent` e-mails in the ledger to contacts the test campaign reaches; the first `hard` of
    them hard-bounced, the next `complaints` drew a complaint."""
    contact_ids = add_contacts(sent)
    now = utcnow()
    with get_engine().begin() as conn:
        run_id = conn.scalar(
            insert(WaveRun)
            .values(
                run_key="old:news",
                campaign_id="old",
                wave_id="news",
                campaign_dir="/nonexistent",
                content_hash="0" * 64,
                state="done",
                launched_by="tester",
                created_at=now,
                updated_at=now,
            )
            .returning(WaveRun.id)
        )
        rows = [
            {"run_id": run_id, "contact_id": c, "channel": "newsletter", "message_id": "m", "audience_id": "all"}
            | {"language": "nl", "status": SENT, "sent_at": now}
            for c in contact_ids
        ]
        conn.execute(insert(Delivery), rows)
        ids = list(conn.scalars(select(Delivery.id).where(Delivery.run_id == run_id).order_by(Delivery.id)))
        kinds = ["hard"] * hard + ["complaint"] * complaints
        events = [
            {"email_hash": f"{i:064x}", "delivery_id": ids[i], "run_id": run_id, "kind": kind}
            | {"status_code": "5.1.1", "source": "relay", "reported_at": now, "received_at": now, "evidence": f"e{i}"}
            for i, kind in enumerate(kinds)
        ]
        conn.execute(insert(bounce_events), events)


def test_the_bounce_history_warns_before_a_wave_the_breaker_would_pause(database_url: str, tmp_path: Path) -> None:
    camp = copy_campaign(tmp_path)
    _history(sent=200, hard=20, complaints=0)  # 10 % hard bounces against the breaker's 5 %
    checks = {c.name: c for c in doctor.run(camp, get_settings())}
    hard = checks["hard-bounce history"]
    assert hard.status == doctor.Status.WARN
    assert "20 of 200" in hard.found and "10.0%" in hard.found
    assert "wave first: ~20 of 200" in hard.found  # everyone in the list is in the first wave
    assert checks["complaint history"].status == doctor.Status.PASS
    _history_complaint()
    checks = {c.name: c for c in doctor.run(camp, get_settings())}
    assert checks["complaint history"].status == doctor.Status.FAIL
    assert "1 complaint(s) for 200" in checks["complaint history"].found


def _history_complaint() -> None:
    with get_engine().begin() as conn:
        delivery = conn.scalar(select(Delivery.id).order_by(Delivery.id.desc()).limit(1))
        conn.execute(
            insert(bounce_events).values(
                email_hash="f" * 64,
                delivery_id=delivery,
                kind="complaint",
                status_code="abuse",
                source="relay",
                reported_at=utcnow(),
                received_at=utcnow(),
                evidence="complaint-1",
            )
        )
