"""The preview pages: selectors, the audience × language matrix, newsletters in frames, social cards,
edits shown without a restart, render errors as panels, and the campaign's images."""

from __future__ import annotations

import base64
import re
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.exceptions import StarletteDeprecationWarning

from frontends.web.app import create_app
from tests.campaign_copy import copy_campaign, edit, line_of

with warnings.catch_warnings():
    # Starlette asks for its httpx fork; the released httpx it warns about works the same here.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


@pytest.fixture
def campaign(tmp_path: Path) -> Path:
    return copy_campaign(tmp_path)


@pytest.fixture
def client(campaign: Path) -> Iterator[TestClient]:
    with TestClient(create_app(campaign), client=("127.0.0.1", 50200), base_url="http://127.0.0.1") as test_client:
        yield test_client


def test_preview_has_selectors_matrix_frames_and_cards(client: TestClient) -> None:
    page = client.get("/preview")
    assert page.status_code == 200
    html = page.text
    assert '<select id="wave" name="wave">' in html and '<select id="lang" name="lang">' in html
    assert '<label for="wave">' in html and '<label for="lang">' in html
    matrix = html[html.index('<table id="matrix">') : html.index("</table>", html.index('<table id="matrix">'))]
    assert matrix.count("<tr>") == 1 + 2  # header + youth + citizens
    assert all(f">{lang}</th>" in matrix for lang in ("nl", "fr", "de", "en"))
    assert "Hello all (fr)" in matrix  # every language's subject, whatever language is chosen
    assert 'src="/preview/newsletter/first/youth/nl"' in html
    assert 'src="/preview/newsletter/first/citizens/nl"' in html
    assert "width: 640px" in html
    assert html.count('data-platform="x"') == 2
    assert re.search(r"\d+ / 280", html)
    assert page.headers["content-security-policy"].startswith("default-src 'none'")


def test_switching_wave_language_and_width(client: TestClient) -> None:
    html = client.get("/preview", params={"wave": "second", "lang": "fr", "view": "phone"}).text
    assert 'src="/preview/newsletter/second/citizens/fr"' in html
    assert "/preview/newsletter/second/youth" not in html  # the second wave does not address youth
    assert "width: 375px" in html
    frame = client.get("/preview/newsletter/second/citizens/fr")
    assert frame.status_code == 200
    assert '<html lang="fr"' in frame.text
    assert "all** message in fr" not in frame.text and "message in fr" in frame.text
    assert "script-src" not in frame.headers["content-security-policy"]
    assert "frame-ancestors 'self'" in frame.headers["content-security-policy"]


def test_one_audience_only(client: TestClient) -> None:
    html = client.get("/preview", params={"wave": "first", "lang": "de", "audience": "youth"}).text
    assert 'src="/preview/newsletter/first/youth/de"' in html
    assert 'src="/preview/newsletter/first/citizens/de"' not in html


def test_unknown_choices_fall_back_and_unknown_frames_are_404(client: TestClient) -> None:
    assert client.get("/preview", params={"wave": "nope", "lang": "xx", "view": "tv"}).status_code == 200
    assert client.get("/preview/newsletter/nope/youth/fr").status_code == 404
    assert client.get("/preview/newsletter/second/youth/fr").status_code == 404  # no message serves it
    assert client.get("/preview/newsletter/first/youth/xx").status_code == 404
    # Only a channel in the e-mail layout is shown as a page; a post is a card of the preview.
    assert client.get("/preview/x/first/youth/fr").status_code == 404
    assert client.get("/preview/fax/first/youth/fr").status_code == 404


def test_edits_show_without_a_restart(client: TestClient, campaign: Path) -> None:
    assert "Hello all (fr)" in client.get("/preview", params={"lang": "fr"}).text
    edit(campaign / "messages" / "hello" / "all.fr.md", 'subject: "Hello all (fr)"', 'subject: "Bonjour à tous"')
    html = client.get("/preview", params={"lang": "fr"}).text
    assert "Bonjour à tous" in html and "Hello all (fr)" not in html


def test_a_render_error_is_a_panel_naming_file_and_line(client: TestClient, campaign: Path) -> None:
    path = campaign / "messages" / "hello" / "youth.fr.md"
    edit(path, "{% for item in initiatives %}", "{{ no_such_thing.x }}\n{% for item in initiatives %}")
    page = client.get("/preview", params={"lang": "fr"})
    assert page.status_code == 200
    assert 'class="problems"' in page.text
    assert f"youth.fr.md:{line_of(path, 'no_such_thing')}:" in page.text
    frame = client.get("/preview/newsletter/first/youth/fr")
    assert frame.status_code == 422 and "youth.fr.md:" in frame.text


def test_a_broken_campaign_file_is_a_panel_too(client: TestClient, campaign: Path) -> None:
    edit(campaign / "campaign.yaml", "  languages: [nl, fr, de, en]", "  languages: [nl, fr, de, en")
    page = client.get("/preview")
    assert page.status_code == 200
    assert "campaign.yaml:" in page.text and 'class="problems"' in page.text
    assert "Traceback" not in page.text


def test_the_campaigns_images_are_served_and_nothing_else(client: TestClient, campaign: Path) -> None:
    (campaign / "images").mkdir()
    (campaign / "images" / "banner.png").write_bytes(PNG)
    response = client.get("/assets/mini/images/banner.png")
    assert response.status_code == 200 and response.headers["content-type"] == "image/png"
    assert response.content == PNG
    for path in (
        "/assets/mini/campaign.yaml",
        "/assets/other/images/banner.png",
        "/assets/mini/images/none.png",
        "/assets/mini/..%2Fminimal%2Fcampaign.yaml",
        "/assets/mini/%2Fetc%2Fpasswd",
    ):
        assert client.get(path).status_code == 404, path


def test_images_are_public_for_mail_readers(client: TestClient, campaign: Path) -> None:
    (campaign / "images").mkdir()
    (campaign / "images" / "banner.png").write_bytes(PNG)
    remote = TestClient(client.app, client=("198.51.100.7", 40000))
    assert remote.get("/assets/mini/images/banner.png").status_code == 200
    assert remote.get("/preview").status_code == 401


def test_preview_is_read_only(client: TestClient) -> None:
    assert client.post("/preview").status_code == 405
    assert client.post("/preview/newsletter/first/youth/fr").status_code == 405


def test_the_preview_loads_images_from_the_app_whatever_the_mail_address(
    client: TestClient, campaign: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """E-mails name images under WAVECAST_BASE_URL; the app's own frames load them from the app."""
    from tests.conftest import reset_caches

    (campaign / "images").mkdir()
    (campaign / "images" / "banner.png").write_bytes(PNG)
    edit(campaign / "messages/hello/all.fr.md", "https://example.org/banner.png", "images/banner.png")
    monkeypatch.setenv("WAVECAST_BASE_URL", "https://news.example.org")
    reset_caches()
    frame = client.get("/preview/newsletter/first/citizens/fr").text
    sources = re.findall(r'<img[^>]* src="([^"]+)"', frame)
    assert "/assets/mini/images/banner.png" in sources
    assert not [s for s in sources if s.startswith("https://news.example.org")]
    assert client.get("/assets/mini/images/banner.png").content == PNG
