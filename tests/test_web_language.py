"""The web app in the account's language: a Dutch account reads the dashboard in Dutch, a French
one in French; each changes it on /account (or with `wavecast accounts language`); pages
without an account follow the browser's Accept-Language, then English."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
from sqlalchemy import select
from starlette.exceptions import StarletteDeprecationWarning

from accounts.models import Account, AuditEntry
from accounts.roles import Role
from campaign.db import session_scope
from frontends.web.app import create_app
from tests.accounts_setup import make_account, sign_in
from tests.campaign_copy import copy_campaign
from tests.cli import wavecast
from tests.conftest import reset_caches

with warnings.catch_warnings():
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient


@pytest.fixture
def client(tmp_path: Path, database_url: str) -> TestClient:
    reset_caches()
    return TestClient(
        create_app(copy_campaign(tmp_path)),
        client=("127.0.0.1", 50311),
        base_url="http://127.0.0.1",
        raise_server_exceptions=False,
    )


def _speaking(email: str, language: str | None) -> str:
    """A viewer's token, the account speaking `language`."""
    _actor, token = make_account(email, Role.VIEWER)
    with session_scope() as session:
        session.scalars(select(Account).where(Account.email == email)).one().language = language
    return token


def _language(client: TestClient, token: str, data: dict[str, str]) -> object:
    csrf = client.get("/api/csrf").json()["csrf_token"]
    return client.post(
        "/account",
        data={**data, "csrf_token": csrf},
        headers={"Authorization": f"Bearer {token}"},
        follow_redirects=False,
    )


def test_a_dutch_account_reads_the_dashboard_in_dutch_and_a_french_one_in_french(client: TestClient) -> None:
    dutch, french = _speaking("an@example.org", "nl"), _speaking("jean@example.org", "fr")
    nl = client.get("/", params={"as_of": "2023-06-12"}, headers={"Authorization": f"Bearer {dutch}"})
    fr = client.get("/", params={"as_of": "2023-06-12"}, headers={"Authorization": f"Bearer {french}"})
    assert nl.status_code == fr.status_code == 200
    assert '<html lang="nl">' in nl.text and nl.headers["content-language"] == "nl"
    assert "Volgende golf" in nl.text and "Wacht op goedkeuring" in nl.text and "Next wave" not in nl.text
    assert "ma 12 jun 2023, 10:00 CEST" in nl.text and "over 10 u 0 min" in nl.text
    assert '<html lang="fr">' in fr.text and "Prochaine vague" in fr.text and "Next wave" not in fr.text
    assert "lun. 12 juin 2023, 10:00 CEST" in fr.text and "dans 10 h 0 min" in fr.text
    # The account's choice wins over the browser's.
    assert (
        "Volgende golf" in client.get("/", headers={"Authorization": f"Bearer {dutch}", "Accept-Language": "fr"}).text
    )


def test_the_account_page_switches_the_language_and_the_audit_log_records_it(client: TestClient) -> None:
    token = _speaking("an@example.org", "nl")
    bearer = {"Authorization": f"Bearer {token}"}
    page = client.get("/account", headers=bearer)
    assert (
        page.status_code == 200 and "Taal van de webapp" in page.text and 'value="nl" lang="nl" selected' in page.text
    )
    moved = _language(client, token, {"language": "fr"})
    assert moved.status_code == 303 and moved.headers["location"] == "/account?done=language"  # type: ignore[attr-defined]
    assert "Votre langue est enregistrée." in client.get("/account?done=language", headers=bearer).text
    assert "Prochaine vague" in client.get("/", headers=bearer).text
    assert _language(client, token, {"language": "auto"}).status_code == 303  # type: ignore[attr-defined]
    assert "Next wave" in client.get("/", headers=bearer).text
    assert "Volgende golf" in client.get("/", headers={**bearer, "Accept-Language": "nl-BE"}).text
    refused = _language(client, token, {"language": "de"})
    assert refused.status_code == 400 and "choose one of en, nl, fr, auto" in refused.text  # type: ignore[attr-defined]
    with session_scope() as session:
        entries = session.scalars(select(AuditEntry).where(AuditEntry.action == "accounts.language")).all()
        assert [e.after for e in entries] == ['{"language": "fr"}', '{"language": null}']


def test_without_an_account_the_page_follows_accept_language_then_english(client: TestClient) -> None:
    french = client.get("/login", headers={"Accept-Language": "fr-BE,fr;q=0.9,en;q=0.5"})
    assert '<html lang="fr">' in french.text and "Se connecter" in french.text and "Mot de passe" in french.text
    error = client.get("/timeline", params={"week": "next week"}, headers={"Accept-Language": "nl-BE"})
    assert error.status_code == 400 and '<html lang="nl">' in error.text
    assert "<h1>Geen dag</h1>" in error.text and "Terug naar het dashboard" in error.text
    assert '<html lang="en">' in client.get("/login", headers={"Accept-Language": "de"}).text
    assert '<html lang="en">' in client.get("/login").text


def test_choosing_the_language_needs_an_account(client: TestClient) -> None:
    assert client.get("/account").status_code == 401
    csrf = client.get("/api/csrf").json()["csrf_token"]
    assert client.post("/account", data={"language": "nl", "csrf_token": csrf}).status_code == 401
    token = _speaking("an@example.org", None)
    no_csrf = client.post("/account", data={"language": "nl"}, headers={"Authorization": f"Bearer {token}"})
    assert no_csrf.status_code == 403


def test_the_command_line_sets_the_language_of_your_account_or_as_admin_another_one(
    database_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _actor, mine = make_account("an@example.org", Role.EDITOR)
    make_account("jean@example.org", Role.VIEWER)
    sign_in(monkeypatch, mine)
    done = wavecast(capsys, "accounts", "language", " NL ")
    assert done.code == 0 and "an@example.org" in done.out
    wrong = wavecast(capsys, "accounts", "language", "de")
    assert wrong.code != 0 and "'de' is not a language of the web app" in wrong.err
    refused = wavecast(capsys, "accounts", "language", "fr", "--account", "jean@example.org")
    assert refused.code == 4 and "admin" in refused.err
    _actor, admin = make_account("admin@example.org", Role.ADMIN)
    sign_in(monkeypatch, admin)
    assert wavecast(capsys, "accounts", "language", "fr", "--account", "Jean@Example.org").code == 0
    with session_scope() as session:
        chosen = {email: language for email, language in session.execute(select(Account.email, Account.language))}
    assert chosen == {"an@example.org": "nl", "jean@example.org": "fr", "admin@example.org": None}
