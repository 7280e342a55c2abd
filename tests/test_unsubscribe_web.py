"""The public unsubscribe route, through a real HTTP server (uvicorn on loopback) and httpx."""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from audiences.consent import erase, show
from audiences.tokens import _SALT, InvalidToken, contact_for_token, unsubscribe_token, unsubscribe_url
from audiences.upsert import add_contacts
from campaign.settings import get_settings
from frontends.web.app import create_app
from tests.conftest import free_port, reset_caches

ONE_CLICK = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture
def server(database_url: str) -> Iterator[str]:
    """The wavecast web app served by uvicorn in a thread; yields its base address."""
    port = free_port()
    config = uvicorn.Config(create_app(), host="127.0.0.1", port=port, log_level="warning", lifespan="off", ws="none")
    app_server = uvicorn.Server(config)
    thread = threading.Thread(target=app_server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not app_server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    app_server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def client(server: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server, follow_redirects=False, timeout=10) as http:
        yield http


def person(language: str | None = "fr") -> int:
    (contact_id,) = add_contacts([{"email": "lea.dubois@example.org", "language": language}])
    return contact_id


def test_the_page_asks_in_the_contacts_language_and_get_changes_nothing(client: httpx.Client) -> None:
    contact_id = person("fr")
    response = client.get(f"/u/{unsubscribe_token(contact_id)}")
    assert response.status_code == 200
    page = response.text
    assert '<html lang="fr">' in page
    assert "Vous ne souhaitez plus recevoir" in page
    assert '<form method="post"><button type="submit">Me désinscrire</button></form>' in page
    assert "http" not in page.split("</title>")[1]  # no external assets, no links out
    assert response.headers["cache-control"] == "no-store"
    assert "set-cookie" not in response.headers
    assert show("lea.dubois@example.org")["unsubscribed_at"] is None


def test_one_click_post_unsubscribes_with_200_no_redirect_and_is_idempotent(client: httpx.Client) -> None:
    contact_id = person("de")
    path = f"/u/{unsubscribe_token(contact_id)}"
    first = client.post(path, content="List-Unsubscribe=One-Click", headers=ONE_CLICK)
    assert first.status_code == 200
    assert "location" not in first.headers and "set-cookie" not in first.headers
    assert "Sie sind abgemeldet" in first.text
    when = show("lea.dubois@example.org")["unsubscribed_at"]
    assert when is not None
    again = client.post(path, content="List-Unsubscribe=One-Click", headers=ONE_CLICK)
    assert again.status_code == 200
    assert show("lea.dubois@example.org")["unsubscribed_at"] == when
    assert "bereits abgemeldet" in client.get(path).text


def test_the_pages_own_empty_form_post_unsubscribes(client: httpx.Client) -> None:
    contact_id = person("nl")
    response = client.post(f"/u/{unsubscribe_token(contact_id)}", headers=ONE_CLICK)
    assert response.status_code == 200
    assert "U bent uitgeschreven" in response.text
    assert show("lea.dubois@example.org")["unsubscribed_at"] is not None


def test_a_forged_token_gets_400_and_changes_nothing(client: httpx.Client) -> None:
    contact_id = person()
    token = unsubscribe_token(contact_id)
    forged = URLSafeTimedSerializer("a guessed key", salt=_SALT).dumps(contact_id)
    for bad in (forged, token[:-2] + ("AA" if not token.endswith("AA") else "BB"), "nonsense"):
        response = client.post(f"/u/{bad}", content="List-Unsubscribe=One-Click", headers=ONE_CLICK)
        assert response.status_code == 400
        assert "This link is not valid or has expired" in response.text
        assert client.get(f"/u/{bad}").status_code == 400
    assert show("lea.dubois@example.org")["unsubscribed_at"] is None


class _LongAgo(TimestampSigner):
    def get_timestamp(self) -> int:
        return int(time.time()) - 401 * 86400


def test_an_expired_token_gets_400_and_changes_nothing(client: httpx.Client) -> None:
    contact_id = person()
    old = URLSafeTimedSerializer(get_settings().secret_key, salt=_SALT, signer=_LongAgo).dumps(contact_id)
    with pytest.raises(InvalidToken):
        contact_for_token(old)
    response = client.post(f"/u/{old}", content="List-Unsubscribe=One-Click", headers=ONE_CLICK)
    assert response.status_code == 400
    assert show("lea.dubois@example.org")["unsubscribed_at"] is None


def test_the_link_of_an_erased_person_finds_nobody(client: httpx.Client) -> None:
    contact_id = person()
    token = unsubscribe_token(contact_id)
    erase("lea.dubois@example.org")
    assert client.get(f"/u/{token}").status_code == 404
    assert client.post(f"/u/{token}", headers=ONE_CLICK).status_code == 404


def test_tokens_carry_no_address_and_links_use_the_base_url(monkeypatch: pytest.MonkeyPatch, database_url: str) -> None:
    monkeypatch.setenv("WAVECAST_BASE_URL", "https://campagne.example.org/")
    reset_caches()
    contact_id = person()
    url = unsubscribe_url(contact_id)
    assert url.startswith("https://campagne.example.org/u/")
    token = url.rsplit("/", 1)[1]
    assert contact_for_token(token) == contact_id
    payload = token.split(".")[0]
    assert base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)) == str(contact_id).encode()
