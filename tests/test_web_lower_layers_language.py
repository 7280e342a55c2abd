"""The words the lower layers hand to the pages (the preflight checks, the charts, the
suppression line, a refused move) in the reader's language, while the command line and the
JSON answers keep the English they always printed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from accounts.models import Account
from accounts.roles import Role
from campaign.db import session_scope
from campaign.phrase import Phrase
from campaign.reschedule import file_hash
from frontends.web import i18n
from tests.accounts_setup import make_account
from tests.operator_client import EMAIL, TestClient, operator_client, post_as_operator
from tests.sending_setup import approved_campaign
from waves.approval import DoctorFailed
from waves.doctor import Check, Status
from waves.scheduler import WAITING


@pytest.fixture
def camp(tmp_path: Path, database_url: str) -> Path:
    return approved_campaign(tmp_path).root


@pytest.fixture
def client(camp: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    with operator_client(camp, monkeypatch) as test_client:
        yield test_client


def _speaking(email: str, language: str) -> dict[str, str]:
    """The headers of a viewer whose account speaks `language`."""
    _actor, token = make_account(email, Role.VIEWER)
    _choose(email, language)
    return {"Authorization": f"Bearer {token}"}


def _choose(email: str, language: str) -> None:
    with session_scope() as session:
        session.scalars(select(Account).where(Account.email == email)).one().language = language


def test_a_phrase_is_its_english_and_says_itself_in_the_page_language() -> None:
    found = Phrase("%(found)s; 2048 bits is the advised minimum", found=Phrase("%(key)s key", key="RSA 1024-bit"))
    assert found == "RSA 1024-bit key; 2048 bits is the advised minimum"
    listed = Phrase("suppression list: %(total)d address(es): %(reasons)s", total=3, reasons=("2 x", "1 y"))
    assert listed == "suppression list: 3 address(es): 2 x, 1 y"
    with i18n.speaking("nl"):
        assert i18n.say(Phrase("DKIM key")) == "DKIM-sleutel"
        assert i18n.say(Phrase("secret key")) == "geheime sleutel"
    with i18n.speaking("fr"):
        assert i18n.say(Phrase("%(first)s; %(then)s", first="a", then=Phrase("DKIM key"))) == "a ; clé DKIM"
        # A schedule's note comes back from the database as plain text, and is looked up as it is.
        assert i18n.say(str(WAITING)) == "en attente de la fenêtre d'envoi / après une date bloquée"


def test_an_approval_refused_by_the_preflight_names_the_checks_in_the_page_language() -> None:
    failed = [Check(Phrase("secret key"), Status.FAIL, Phrase("WAVECAST_SECRET_KEY is set (not shown)"))]
    refused = DoctorFailed("launch", failed, "--override-doctor")
    assert str(refused).startswith(
        "wave 'launch' is not approved: the doctor found 1 failing check(s): secret key: WAVECAST_SECRET_KEY is set"
    )
    with i18n.speaking("fr"):
        assert i18n.say(refused.args[0]).startswith(
            "la vague 'launch' n'est pas approuvée : le contrôle préalable a trouvé 1 contrôle(s) en échec : "
            "clé secrète : WAVECAST_SECRET_KEY est défini"
        )


def test_a_dutch_account_reads_the_preflight_checks_and_the_charts_in_dutch(client: TestClient) -> None:
    dutch = _speaking("an@example.org", "nl")
    doctor = client.get("/doctor", headers=dutch)
    assert doctor.status_code == 200 and '<html lang="nl">' in doctor.text
    for words in ("Controles vooraf", "geheime sleutel", "DKIM-sleutel", "uitschrijven met één klik", "DMARC"):
        assert words in doctor.text, words
    for english in ("secret key", "DKIM key", "one-click unsubscribe", "not checked: no relay configured"):
        assert english not in doctor.text, english
    assert "niet gecontroleerd: geen relay ingesteld" in doctor.text  # a finding, not only the names
    assert "Project-Id-Version" not in doctor.text  # a check without a fix shows none, not the catalogue's header

    report = client.get("/report", headers=dutch)
    assert report.status_code == 200
    assert "Bereik per doelgroep per golf" in report.text and "Reach per audience per wave" not in report.text
    assert "Verdeling per taal" in report.text and "Er is nog geen nieuwsbrief verzonden" in report.text  # in the SVG

    status = client.get("/status", headers=dutch)
    assert status.status_code == 200 and "Suppressielijst: leeg" in status.text


def test_a_french_account_reads_an_error_page_and_a_refused_move_in_french(client: TestClient, camp: Path) -> None:
    french = _speaking("jean@example.org", "fr")
    missing = client.get("/report", params={"wave": "nope"}, headers=french)
    assert missing.status_code == 404 and '<html lang="fr">' in missing.text
    assert "la campagne n&#39;a pas de vague &#39;nope&#39;" in missing.text
    assert "the campaign has no wave" not in missing.text

    _choose(EMAIL, "fr")
    before = (camp / "campaign.yaml").read_bytes()
    refused = post_as_operator(client, "/waves/first/move", {"day": "2023-07-21", "seen_hash": file_hash(camp)})
    assert refused.status_code == 400
    assert "une date bloquée (Nationale feestdag)" in refused.text and "a blackout date" not in refused.text
    late = post_as_operator(client, "/waves/first/move", {"day": "2023-06-17", "seen_hash": file_hash(camp)})
    assert late.status_code == 400 and "hors de la fenêtre d&#39;envoi" in late.text
    assert (camp / "campaign.yaml").read_bytes() == before
