"""Public pages (/u/…, /c/…, /assets/…, and any address a stranger types) never answer 500 and
never show the campaign's files or problems; their errors are small HTML pages in the
visitor's language. Requests go over a real socket to uvicorn, paths sent byte for byte."""

from __future__ import annotations

import base64
import http.client
import os
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.campaign_copy import copy_campaign, edit
from tests.live_app import live_app

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
# What must never reach a visitor: names of the campaign's files and words of its problems.
SECRETS = ("campaign.yaml", ".md", "messages/", "Traceback", "not allowed", "FIFO", "outside", "root:", "/tmp/")
PATHS = [
    "/assets/mini/../../etc/passwd",
    "/assets/mini/..%2F..%2Fcampaign.yaml",
    "/assets/mini/%2e%2e/%2e%2e/campaign.yaml",
    "/assets/mini/images%2F..%2F..%2Fcampaign.yaml",
    "/assets/mini/..%5C..%5Ccampaign.yaml",
    "/assets/mini/%252e%252e%252fcampaign.yaml",
    "/assets/mini/%2Fetc%2Fpasswd",
    "/assets/mini//etc/passwd",
    "/assets/mini/%00",
    "/assets/mini/images/banner.png%00.txt",
    "/assets/mini/images/" + "a" * 5000 + ".png",
    "/assets/mini/" + "a/" * 600 + "x.png",
    "/assets/mini/campaign.yaml",
    "/assets/mini/messages/hello/youth.nl.md",
    "/assets/mini/images/out.png",
    "/assets/mini/images/zero.png",
    "/assets/mini/images/pipe.png",
    "/assets/other/images/banner.png",
    "/assets/%00/x.png",
    "/u/%00",
    "/u/..%2F..%2Fetc%2Fpasswd",
    "/u/" + "a" * 5000,
    "/c/%00",
    "/c/" + "x" * 5000,
    "/no/such/page%00",
    "/%2e%2e/%2e%2e/etc/passwd",
]


@pytest.fixture
def site(database_url: str, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    camp = copy_campaign(tmp_path)
    images = camp / "images"
    images.mkdir()
    (images / "banner.png").write_bytes(PNG)
    (images / "out.png").symlink_to("/etc/passwd")
    (images / "zero.png").symlink_to("/dev/zero")
    os.mkfifo(images / "pipe.png")
    with live_app(camp) as base:
        yield base, camp


def get(base: str, path: str, method: str = "GET", lang: str | None = None) -> http.client.HTTPResponse:
    """One request with the path exactly as given (no client-side normalising of '..' or '%2F')."""
    address = urlsplit(base)
    connection = http.client.HTTPConnection(address.hostname or "", address.port, timeout=10)
    headers = {} if lang is None else {"Accept-Language": lang}
    connection.request(method, path, headers=headers)
    response = connection.getresponse()
    response.body = response.read()  # type: ignore[attr-defined]
    connection.close()
    return response


def assert_public_error(response: http.client.HTTPResponse, lang: str = "en") -> str:
    body = response.body.decode()  # type: ignore[attr-defined]
    assert 400 <= response.status < 500, (response.status, body[:300])
    assert response.getheader("content-type", "").startswith("text/html"), response.getheader("content-type")
    assert f'<html lang="{lang}"' in body, body[:300]
    for secret in SECRETS:
        assert secret not in body, (secret, body[:500])
    return body


def test_path_payloads_get_a_small_html_page_never_a_500_nor_a_file_name(site: tuple[str, Path]) -> None:
    base, _camp = site
    for path in PATHS:
        response = get(base, path)
        assert response.status < 500, (path, response.status)
        if response.status >= 400:
            assert_public_error(response)
        else:
            assert response.body == PNG, path  # type: ignore[attr-defined]
    assert get(base, "/assets/mini/images/banner.png").body == PNG  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("header", "lang", "words"),
    [
        (None, "en", "Page not found"),
        ("nl-BE,nl;q=0.9", "nl", "Pagina niet gevonden"),
        ("de-CH;q=0.5, fr;q=0.8, en;q=0.1", "fr", "Page introuvable"),
        ("xx, de", "de", "Seite nicht gefunden"),
        ("fr;q=0, nl;q=abc, de;q=2, en", "en", "Page not found"),
        ("," * 5000 + "nl", "en", "Page not found"),
    ],
)
def test_error_pages_speak_the_visitors_language(
    site: tuple[str, Path], header: str | None, lang: str, words: str
) -> None:
    base, _camp = site
    for path in ("/no/such/page", "/assets/mini/images/none.png", "/c/not-a-link"):
        response = get(base, path, lang=header)
        assert response.status == 404
        body = assert_public_error(response, lang)
        assert words in body and "<main>" in body and "<h1>" in body
        assert response.getheader("content-language") == lang


def test_wrong_method_and_bad_form_are_html_too_but_the_api_keeps_json(site: tuple[str, Path]) -> None:
    base, _camp = site
    response = get(base, "/assets/mini/images/banner.png", method="POST", lang="nl")
    assert response.status == 405 and "GET" in (response.getheader("allow") or "")
    assert "Niet mogelijk" in assert_public_error(response, "nl")
    response = get(base, "/api/no-such-thing")
    assert response.status == 404 and response.getheader("content-type") == "application/json"


def test_a_campaign_with_problems_shows_none_of_them_on_public_pages(site: tuple[str, Path]) -> None:
    base, camp = site
    edit(camp / "messages" / "hello" / "youth.nl.md", "Hello {{ contact.first_name }}", "Hello {{ nope(")
    # The images are still served: the e-mails already sent still show them.
    assert get(base, "/assets/mini/images/banner.png").body == PNG  # type: ignore[attr-defined]
    for path in ("/assets/mini/images/none.png", "/assets/mini/..%2Fcampaign.yaml", "/u/x", "/c/x", "/nope"):
        response = get(base, path)
        assert response.status < 500
        assert_public_error(response)
    (camp / "campaign.yaml").write_text("schema_version: [", encoding="utf-8")
    banner = get(base, "/assets/mini/images/banner.png")
    if banner.status != 200:  # the image may still be served under the id campaign.yaml last gave
        assert_public_error(banner)
    for path in ("/assets/mini/%00", "/assets/mini/..%2Fcampaign.yaml", "/assets/mini/images/none.png"):
        assert_public_error(get(base, path))


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Forwarded-For": "203.0.113.9"},
        {"Forwarded": "for=203.0.113.9;proto=https"},
        {"X-Real-IP": "203.0.113.9"},
        {"Host": "campaign.example.be"},
    ],
    ids=["x-forwarded-for", "forwarded", "x-real-ip", "public host name"],
)
def test_behind_a_reverse_proxy_the_pages_that_show_problems_are_closed(
    site: tuple[str, Path], monkeypatch: pytest.MonkeyPatch, headers: dict[str, str]
) -> None:
    """A proxy on this machine makes every visitor arrive from 127.0.0.1, under the public name."""
    from tests.conftest import reset_caches

    monkeypatch.setenv("WAVECAST_BASE_URL", "https://campaign.example.be")
    reset_caches()
    base, camp = site
    edit(camp / "messages" / "hello" / "youth.nl.md", "Hello {{ contact.first_name }}", "Hello {{ nope(")
    address = urlsplit(base)
    for path in ("/preview", "/plan", "/report", "/preview/newsletter/first/youth/nl"):
        connection = http.client.HTTPConnection(address.hostname or "", address.port, timeout=10)
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        body = response.read().decode()
        connection.close()
        assert response.status == 401, (path, response.status)
        for secret in SECRETS:
            assert secret not in body, (path, secret)
    assert get(base, "/preview").status == 200  # on this machine itself, reading stays open
