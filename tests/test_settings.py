"""Settings are checked before anything starts: every bad WAVECAST_* value is named, exit 2.

Each class of bad value is tried with several payloads through ``load_settings`` (the one
function every entry point calls), and through the real entry points: the CLI (which covers
`serve` and `scheduler`) and the Celery worker module.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from campaign.errors import SettingsError
from campaign.settings import load_settings
from tests.conftest import ROOT

# What a production relay needs before it may send: a key of its own and an https address.
RELAY = {
    "WAVECAST_SMTP_URL": "smtp://relay.example.be:587",
    "WAVECAST_SECRET_KEY": "a-key-of-this-installation",
    "WAVECAST_BASE_URL": "https://campaign.example.be",
}

NUMBERS = [
    "WAVECAST_SEND_LEASE_SECONDS",
    "WAVECAST_SWEEP_INTERVAL_SECONDS",
    "WAVECAST_SCHEDULER_LEASE_SECONDS",
    "WAVECAST_MISFIRE_GRACE_SECONDS",
    "WAVECAST_MAX_ATTEMPTS",
    "WAVECAST_CHUNK_SIZE",
    "WAVECAST_LEDGER_BATCH_SIZE",
    "WAVECAST_RATE_PER_SECOND",
    "WAVECAST_SMTP_TIMEOUT_SECONDS",
    "WAVECAST_SMTP_CONNECTIONS",
    "WAVECAST_SMTP_MESSAGES_PER_CONNECTION",
    "WAVECAST_RETRY_BASE_SECONDS",
    "WAVECAST_RETRY_MAX_SECONDS",
    "WAVECAST_VISIBILITY_TIMEOUT_SECONDS",
]


def refused(env: dict[str, str], name: str) -> str:
    with pytest.raises(SettingsError) as caught:
        load_settings(env)
    message = str(caught.value)
    assert name in message
    assert caught.value.exit_code == 2
    return message


@pytest.mark.parametrize("name", NUMBERS)
@pytest.mark.parametrize("value", ["nan", "NaN", "inf", "-inf", "Infinity", "1e999", "-1", "9" * 40, "soon", "1,5"])
def test_a_number_that_is_not_finite_or_in_range_is_refused_by_name(name: str, value: str) -> None:
    refused({name: value}, name)


@pytest.mark.parametrize(
    ("name", "too_big"),
    [
        ("WAVECAST_CHUNK_SIZE", "10001"),
        ("WAVECAST_LEDGER_BATCH_SIZE", "100001"),
        ("WAVECAST_MAX_ATTEMPTS", "1001"),
        ("WAVECAST_SMTP_TIMEOUT_SECONDS", "601"),
        ("WAVECAST_SMTP_TIMEOUT_SECONDS", "0"),
        ("WAVECAST_SMTP_CONNECTIONS", "65"),
        ("WAVECAST_SMTP_CONNECTIONS", "0"),
        ("WAVECAST_RATE_PER_SECOND", "100001"),
        ("WAVECAST_SCHEDULER_LEASE_SECONDS", "3601"),
        ("WAVECAST_VISIBILITY_TIMEOUT_SECONDS", "999999999"),
        ("WAVECAST_RETRY_BASE_SECONDS", "301"),  # above the default RETRY_MAX_SECONDS
    ],
)
def test_numbers_have_an_upper_bound_where_one_makes_sense(name: str, too_big: str) -> None:
    refused({name: too_big}, name)


def test_numbers_in_range_are_taken() -> None:
    settings = load_settings({"WAVECAST_RATE_PER_SECOND": "2.5", "WAVECAST_CHUNK_SIZE": " 100 "})
    assert (settings.rate_per_second, settings.chunk_size) == (2.5, 100)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("WAVECAST_SMTP_URL", "smtp://relay.example.be:99999"),
        ("WAVECAST_SMTP_URL", "smtp://relay.example.be:abc"),
        ("WAVECAST_SMTP_URL", "smtp://relay.example.be:0"),
        ("WAVECAST_SMTP_URL", "smtp://"),
        ("WAVECAST_SMTP_URL", "smtp:///no-host"),
        ("WAVECAST_SMTP_URL", "relay.example.be:25"),
        ("WAVECAST_SMTP_URL", "http://relay.example.be"),
        ("WAVECAST_SMTP_URL", "smtp://relay.example.be\n:25"),
        ("WAVECAST_SMTP_URL", "smtp://relay .example.be"),
        ("WAVECAST_SMTP_URL", "smtp://[::1"),
        ("WAVECAST_SMTP_URL", "smtp://relay.example.be?startls=1"),
        ("WAVECAST_BROKER_URL", "redis://"),
        ("WAVECAST_BROKER_URL", "redis://h:70000/0"),
        ("WAVECAST_BROKER_URL", "amqp://h"),
        ("WAVECAST_SOCIAL_WEBHOOK_URL", "https://:443/hook"),
        ("WAVECAST_SOCIAL_WEBHOOK_URL", "ftp://hooks.example.be"),
        ("WAVECAST_BASE_URL", "/campaign"),
        ("WAVECAST_BASE_URL", "campaign.example.be"),
        ("WAVECAST_BASE_URL", "https://"),
        ("WAVECAST_BASE_URL", "javascript:alert(1)"),
        ("WAVECAST_BASE_URL", "https://campaign.example.be/?a=1"),
        ("WAVECAST_BASE_URL", "https://user:pw@campaign.example.be"),
        ("WAVECAST_BASE_URL", "https://campaign.example.be:65536"),
        ("WAVECAST_DATABASE_URL", "mysql://u@h/db"),
        ("WAVECAST_DATABASE_URL", "postgresql+psycopg2://u@h/db"),
        ("WAVECAST_DATABASE_URL", "not a url"),
        ("WAVECAST_DATABASE_URL", "postgresql://u@h:abc/db"),
        ("WAVECAST_DATABASE_URL", "postgresql://u@h:99999/db"),
    ],
)
def test_a_url_that_does_not_parse_or_has_no_host_is_refused_by_name(name: str, value: str) -> None:
    refused({name: value}, name)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("WAVECAST_SMTP_URL", "smtp://mailer:Hunter2pw@relay.example.be:abc"),
        ("WAVECAST_BROKER_URL", "redis://:Hunter2pw@"),
        ("WAVECAST_DATABASE_URL", "mysql://wavecast:Hunter2pw@db.example.be/wavecast"),
        ("WAVECAST_DATABASE_URL", "postgresql://wavecast:Hunter2pw@db.example.be:port/wavecast"),
    ],
)
def test_a_password_in_a_refused_url_is_never_shown(name: str, value: str) -> None:
    message = refused({**RELAY, name: value}, name)
    assert "Hunter2pw" not in message
    assert "***" in message


def test_the_database_url_password_is_masked_where_the_engine_is_made() -> None:
    from campaign.db import DatabaseError, engine_for

    with pytest.raises(DatabaseError) as caught:
        engine_for("postgresql://wavecast:Hunter2pw@db.example.be:port/wavecast")
    assert "Hunter2pw" not in str(caught.value)


@pytest.mark.parametrize(
    ("url", "user", "password"),
    [
        ("smtp://mailer%40example.be:p%40ss%3Aw%2Frd@relay.example.be:587", "mailer@example.be", "p@ss:w/rd"),
        ("smtps://user:%C3%A9t%C3%A9%25@relay.example.be", "user", "été%"),
        ("smtp://only-user@relay.example.be", "only-user", None),
    ],
)
def test_the_relay_user_and_password_are_percent_decoded(url: str, user: str, password: str | None) -> None:
    relay = load_settings({**RELAY, "WAVECAST_SMTP_URL": url}).smtp
    assert relay is not None
    assert (relay.user, relay.password) == (user, password)
    assert relay.host == "relay.example.be"


def test_the_relay_port_and_tls_follow_the_url() -> None:
    plain = load_settings({**RELAY, "WAVECAST_SMTP_URL": "smtp://relay.example.be?starttls=1"}).smtp
    tls = load_settings({**RELAY, "WAVECAST_SMTP_URL": "smtps://relay.example.be"}).smtp
    assert plain is not None and tls is not None
    assert (plain.port, plain.tls, plain.starttls) == (25, False, True)
    assert (tls.port, tls.tls, tls.starttls) == (465, True, False)


@pytest.mark.parametrize(
    ("typo", "meant"),
    [
        ("WAVECAST_SMTP_ULR", "WAVECAST_SMTP_URL"),
        ("WAVECAST_DATABSE_URL", "WAVECAST_DATABASE_URL"),
        ("WAVECAST_SECRETKEY", "WAVECAST_SECRET_KEY"),
        ("WAVECAST_CHUNK_SIZES", "WAVECAST_CHUNK_SIZE"),
    ],
)
def test_an_unknown_variable_is_refused_with_the_close_match(typo: str, meant: str) -> None:
    message = refused({typo: "x"}, typo)
    assert f"did you mean {meant}?" in message


def test_an_unknown_variable_with_no_close_match_is_still_refused() -> None:
    message = refused({"WAVECAST_COLOUR": "blue"}, "WAVECAST_COLOUR")
    assert "did you mean" not in message


def test_the_harness_variables_are_not_typos() -> None:
    load_settings({"WAVECAST_TEST_POSTGRES_URL": "x", "WAVECAST_FUZZ_EXAMPLES": "5", "WAVECAST_BENCH_SMOKE": "1"})


@pytest.mark.parametrize(
    ("change", "name"),
    [
        ({"WAVECAST_SECRET_KEY": ""}, "WAVECAST_SECRET_KEY"),
        ({"WAVECAST_SECRET_KEY": "wavecast-embedded-default-not-secret"}, "WAVECAST_SECRET_KEY"),
        ({"WAVECAST_BASE_URL": "http://campaign.example.be"}, "WAVECAST_BASE_URL"),
        ({"WAVECAST_BASE_URL": ""}, "WAVECAST_BASE_URL"),  # the default is http://127.0.0.1:8000
        ({"WAVECAST_SMTP_URL": "smtps://relay.example.be", "WAVECAST_BASE_URL": "http://x.be"}, "WAVECAST_BASE_URL"),
    ],
)
def test_a_real_relay_refuses_the_public_key_or_a_plain_http_address(change: dict[str, str], name: str) -> None:
    message = refused({**RELAY, **change}, name)
    assert "WAVECAST_ALLOW_INSECURE_RELAY=1" in message


def test_the_embedded_outbox_and_an_explicit_test_relay_are_exempt() -> None:
    embedded = load_settings({})  # no SMTP_URL: .eml files, public key, http address
    assert embedded.smtp is None and embedded.base_url.startswith("http://")
    test_relay = load_settings({"WAVECAST_SMTP_URL": "smtp://127.0.0.1:2525", "WAVECAST_ALLOW_INSECURE_RELAY": "1"})
    assert test_relay.smtp is not None
    refused({"WAVECAST_SMTP_URL": "smtp://127.0.0.1:2525", "WAVECAST_ALLOW_INSECURE_RELAY": "maybe"}, "ALLOW_INSECURE")


def test_a_good_production_environment_is_taken() -> None:
    settings = load_settings(
        {
            **RELAY,
            "WAVECAST_DATABASE_URL": "postgresql://wavecast:pw@db.example.be:5432/wavecast",
            "WAVECAST_BROKER_URL": "redis://redis.example.be:6379/0",
            "WAVECAST_BASE_URL": "https://campaign.example.be/",
        }
    )
    assert settings.base_url == "https://campaign.example.be"
    assert settings.broker_url == "redis://redis.example.be:6379/0"


def _run(code: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, *code], cwd=ROOT, env={**base, **env}, capture_output=True, text=True, timeout=120, check=False
    )


BAD_AT_START = [
    ({"WAVECAST_CHUNK_SIZE": "nan"}, "WAVECAST_CHUNK_SIZE"),
    ({"WAVECAST_SMTP_URL": "smtp://h:99999"}, "WAVECAST_SMTP_URL"),
    ({"WAVECAST_SMTP_ULR": "smtp://h"}, "WAVECAST_SMTP_ULR"),
    (
        {
            "WAVECAST_SMTP_URL": "smtp://relay.example.be",
            "WAVECAST_SECRET_KEY": "k",
            "WAVECAST_ALLOW_INSECURE_RELAY": "",
        },
        "WAVECAST_BASE_URL",
    ),
]


@pytest.mark.parametrize(("env", "name"), BAD_AT_START)
@pytest.mark.parametrize(
    "args",
    [["validate", "examples/smartnation"], ["scheduler"], ["serve", "examples/smartnation", "--port", "1"], ["--help"]],
    ids=["validate", "scheduler", "serve", "help"],
)
def test_every_command_stops_before_it_starts_with_the_name_and_exit_2(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, env: dict[str, str], name: str, args: list[str]
) -> None:
    from campaign.settings import get_settings
    from tests.cli import wavecast

    for key, value in env.items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    monkeypatch.chdir(ROOT)
    result = wavecast(capsys, *args)  # asserts that no traceback was printed
    assert result.code == 2, result.err
    assert name in result.err and result.out == ""


@pytest.mark.parametrize(
    ("entry", "case"),
    [
        (["-m", "frontends", "validate", "examples/smartnation"], 3),
        (["-c", "import worker"], 0),
        (["-c", "import worker"], 2),
        (["-c", "import worker"], 3),
    ],
    ids=["cli", "worker-number", "worker-typo", "worker-relay"],
)
def test_the_real_processes_stop_at_start_with_the_name_and_exit_2(entry: list[str], case: int) -> None:
    env, name = BAD_AT_START[case]
    result = _run(entry, env)
    assert result.returncode == 2, result.stderr
    assert name in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
