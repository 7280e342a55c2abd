"""DKIM: the key and record `wavecast dkim keygen` makes, newsletters that verify against exactly
that record after the real SMTP path, a key that cannot be used stopping a process at start, and
the List-Id and Feedback-ID headers the signature covers."""

from __future__ import annotations

import base64
import re
import stat
import subprocess
import sys
from collections.abc import Callable
from email import message_from_bytes, policy
from pathlib import Path

import dkim
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from dkim.canonicalization import CanonicalizationPolicy
from hypothesis import given
from hypothesis import strategies as st

from campaign.dkim_keys import read_key
from campaign.dkim_signing import relaxed_body
from campaign.mime import ListIdentity
from campaign.settings import get_settings
from tests.accounts_setup import TESTER
from tests.campaign_copy import MINIMAL
from tests.cli import wavecast
from tests.conftest import ROOT, reset_caches
from tests.sending_setup import add_contacts, approved_campaign
from tests.smtp_sink import SmtpSink

RECORD = re.compile(r'^(?P<name>\S+) TXT (?P<strings>"[^"]{1,255}"(?: "[^"]{1,255}")*)$')
SELECTOR = "wc2026"
RELAXED = CanonicalizationPolicy.from_c_value(b"relaxed/relaxed")


def keygen(capsys: pytest.CaptureFixture[str], out: Path, *args: str) -> str:
    """Run `wavecast dkim keygen`; returns the record it printed (its one line of output)."""
    result = wavecast(capsys, "dkim", "keygen", "--selector", SELECTOR, "--out", str(out), *args)
    assert result.code == 0, result.err
    [line] = result.out.splitlines()
    return line


def published(record: str) -> Callable[..., bytes | None]:
    """A resolver that knows one TXT record, the printed line taken as a zone file would take it:
    the strings joined back without a separator, as RFC 6376 3.6.2.2 tells verifiers to."""
    found = RECORD.match(record)
    assert found, record
    name = found["name"].encode("ascii") + b"."
    text = "".join(re.findall(r'"([^"]*)"', found["strings"])).encode("ascii")

    def answer(qname: bytes, timeout: float = 5) -> bytes | None:
        return text if qname == name else None

    return answer


def tag(message: bytes, name: str) -> str:
    """One tag of the message's DKIM-Signature field, unfolded."""
    field = str(message_from_bytes(message, policy=policy.SMTP)["DKIM-Signature"])
    value = dict(t.strip().split("=", 1) for t in re.sub(r"\s+", " ", field).split(";"))[name]
    return value.replace(" ", "")


def use_key(monkeypatch: pytest.MonkeyPatch, key_file: Path) -> None:
    monkeypatch.setenv("WAVECAST_DKIM_KEY_FILE", str(key_file))
    monkeypatch.setenv("WAVECAST_DKIM_SELECTOR", SELECTOR)
    reset_caches()


def test_keygen_writes_a_key_only_its_owner_reads_and_prints_the_record_for_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "keys").mkdir()
    key_file = tmp_path / "keys" / "dkim.pem"
    record = keygen(capsys, key_file, "--domain", "Example.ORG")
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    found = RECORD.match(record)
    assert found and found["name"] == f"{SELECTOR}._domainkey.example.org", record
    strings = re.findall(r'"([^"]*)"', found["strings"])
    assert len(strings) == 2 and len(strings[0]) == 255  # a 2048-bit key's record is cut for DNS
    text = "".join(strings)
    assert text.startswith("v=DKIM1; k=rsa; p=")
    public = (
        read_key(key_file)
        .public_key()
        .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    assert base64.b64decode(text.split("p=", 1)[1]) == public

    # An existing key is never lost by accident.
    before = key_file.read_bytes()
    again = wavecast(capsys, "dkim", "keygen", "--selector", SELECTOR, "--out", str(key_file))
    assert again.code == 1 and "--force" in again.err and again.out == ""
    assert key_file.read_bytes() == before
    keygen(capsys, key_file, "--algorithm", "ed25519", "--force")
    assert key_file.read_bytes() != before and isinstance(read_key(key_file), ed25519.Ed25519PrivateKey)
    assert [p.name for p in key_file.parent.iterdir()] == ["dkim.pem"]  # no temporary file left behind


def test_keygen_without_a_domain_says_what_to_put_in_its_place(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    result = wavecast(
        capsys, "dkim", "keygen", "--selector", SELECTOR, "--out", str(tmp_path / "k"), "--algorithm", "ed25519"
    )
    assert result.code == 0, result.err
    assert re.fullmatch(
        rf'{SELECTOR}\._domainkey\.DOMAIN TXT "v=DKIM1; k=ed25519; p=[A-Za-z0-9+/]{{43}}="\n', result.out
    )
    assert "replace DOMAIN" in result.err and "WAVECAST_DKIM_KEY_FILE=" in result.err


@pytest.mark.parametrize("algorithm", ["rsa", "ed25519"])
def test_a_wave_sent_over_smtp_verifies_against_the_record_keygen_printed(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path, algorithm: str
) -> None:
    from waves.launch import launch_wave

    sink = SmtpSink()
    sink.start()
    try:
        monkeypatch.setenv("WAVECAST_SMTP_URL", sink.url)
        key_file = tmp_path / "dkim.pem"
        record = keygen(capsys, key_file, "--algorithm", algorithm, "--campaign", str(MINIMAL))
        use_key(monkeypatch, key_file)
        add_contacts(2)
        launch_wave(approved_campaign(tmp_path), "first", TESTER)  # embedded: sent from this process
        sink.wait_for(2)
    finally:
        sink.stop()
    dns = published(record)
    for received in sink.received:
        raw = received.raw
        assert dkim.verify(raw, dnsfunc=dns), "the message does not verify against the printed record"
        assert tag(raw, "a") == f"{algorithm}-sha256" and tag(raw, "d") == "example.org"
        assert tag(raw, "c") == "relaxed/relaxed" and tag(raw, "s") == SELECTOR
        signed = tag(raw, "h").split(":")
        assert signed.count("from") == 2  # over-signed: no second From can be added
        assert {"list-id", "feedback-id", "list-unsubscribe", "list-unsubscribe-post"} <= set(signed)
        message = received.parsed()
        assert message["List-Id"] == '"Mini" <first.mini.example.org>'
        assert message["Feedback-ID"] == "first:citizens:mini:wavecast"


def test_a_message_altered_after_signing_no_longer_verifies(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from audiences.upsert import add_contacts as store
    from campaign.bundle import load_bundle
    from campaign.channel_contract import RunContext
    from waves.channels import channel
    from waves.ledger import Claimed

    key_file = tmp_path / "dkim.pem"
    dns = published(keygen(capsys, key_file, "--algorithm", "ed25519", "--domain", "example.org"))
    use_key(monkeypatch, key_file)
    [person] = store([{"email": "ana@example.org", "first_name": "Ana"}])
    run = RunContext(run_id=1, wave_id="first", bundle=load_bundle(MINIMAL))
    raw = (
        channel("newsletter")
        .build(run, Claimed(5, "newsletter", None, person, "k", "citizens", "nl", "ana@example.org", "Ana", None))
        .body
    )
    assert dkim.verify(raw, dnsfunc=dns)
    head, _, body = raw.partition(b"\r\n\r\n")
    altered = {
        "the recipient's name in the body": head + b"\r\n\r\n" + body.replace(b"Ana", b"Bob", 1),
        "the subject": head.replace(b"\r\nSubject: ", b"\r\nSubject: Re: ", 1) + b"\r\n\r\n" + body,
        "the List-Id": raw.replace(b"<first.mini.example.org>", b"<other.mini.example.org>", 1),
        "a second From": head + b"\r\nFrom: Bank <ceo@example.org>\r\n\r\n" + body,
    }
    for what, message in altered.items():
        assert message != raw, what
        assert not dkim.verify(message, dnsfunc=dns), f"still verifies with {what} changed"


def _encrypted(path: Path) -> None:
    path.write_bytes(
        ed25519.Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"passphrase"),
        )
    )


def _ec(path: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )


BAD_KEYS: dict[str, tuple[Callable[[Path], object], str]] = {
    "missing": (lambda path: None, "no such file"),
    "a directory": (lambda path: path.mkdir(), "cannot be read"),
    "not a key": (
        lambda path: path.write_text("-----BEGIN PRIVATE KEY-----\nnot base64\n", encoding="ascii"),
        "not a PEM private key",
    ),
    "encrypted": (_encrypted, "encrypted"),
    "an EC key": (_ec, "RSA or Ed25519"),
}


@pytest.mark.parametrize("case", BAD_KEYS)
def test_a_key_that_cannot_be_used_stops_the_cli_at_start_in_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path, case: str
) -> None:
    make, reason = BAD_KEYS[case]
    key_file = tmp_path / "dkim.pem"
    make(key_file)
    use_key(monkeypatch, key_file)
    result = wavecast(capsys, "validate", str(MINIMAL))  # asserts that no traceback was printed
    assert result.code == 2 and result.out == ""
    [line] = result.err.splitlines()
    assert line.startswith(f"wavecast: WAVECAST_DKIM_KEY_FILE={key_file}: ") and reason in line, line
    assert "PRIVATE KEY" not in line  # never the file's contents


def test_a_worker_stops_at_start_on_a_missing_key_and_keygen_still_runs(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    key_file = tmp_path / "dkim.pem"
    use_key(monkeypatch, key_file)
    env = {"PATH": "/usr/bin:/bin", "WAVECAST_DKIM_KEY_FILE": str(key_file), "WAVECAST_DKIM_SELECTOR": SELECTOR}
    worker = subprocess.run(
        [sys.executable, "-c", "import worker"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert worker.returncode == 2, worker.stderr
    assert (
        worker.stderr
        == f"wavecast worker: WAVECAST_DKIM_KEY_FILE={key_file}: no such file; make a key with `wavecast dkim keygen`\n"
    )
    # The command that makes the key is the one command the missing key does not stop.
    keygen(capsys, key_file, "--algorithm", "ed25519")
    assert get_settings().dkim is not None and key_file.is_file()


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ('Say "hi" \\ now', '"Say \\"hi\\" \\\\ now"'),
        (
            "Digitaal – samen, voor iedereen in België en daarbuiten",
            "Digitaal – samen, voor iedereen in België en daarbuiten",
        ),
    ],
    ids=["quoted", "encoded"],
)
def test_list_id_carries_any_campaign_name_safely(name: str, shown: str) -> None:
    raw = ListIdentity("mini", name, "first", "citizens").headers("bücher.example") + b"\r\n"
    assert all(len(line) <= 78 for line in raw.split(b"\r\n"))
    parsed = message_from_bytes(raw, policy=policy.default)
    assert str(parsed["List-Id"]) == f"{shown} <first.mini.xn--bcher-kva.example>"
    assert parsed["Feedback-ID"] == "first:citizens:mini:wavecast"


@given(st.lists(st.sampled_from([b"a", b"=", b" ", b"  ", b"\t", b"\r\n", b"\r", b"\n", b"\r\n\r\n"]), max_size=40))
def test_the_fast_relaxed_body_is_dkimpys_relaxed_body(pieces: list[bytes]) -> None:
    body = b"".join(pieces)
    assert relaxed_body(body) == RELAXED.canonicalize_body(body)
