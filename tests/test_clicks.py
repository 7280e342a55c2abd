"""Click counting: signed redirect tokens that name a segment and a link, never a person."""

from __future__ import annotations

import base64
import json
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from starlette.exceptions import StarletteDeprecationWarning

from campaign.bundle import load_bundle
from campaign.clicks import ClickCount, InvalidClick, click_counts, click_token, read_token, tracked_url
from campaign.db import get_engine
from campaign.errors import WavecastError
from frontends.web.app import create_app
from tests.campaign_copy import copy_campaign, edit

with warnings.catch_warnings():
    # Starlette asks for its httpx fork; the released httpx it warns about works the same here.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

LINK = "https://example.org/fr?utm_source=newsletter"


@pytest.fixture
def client(database_url: str) -> Iterator[TestClient]:
    with TestClient(create_app(), client=("203.0.113.9", 40000)) as test_client:  # readers click from anywhere
        yield test_client


def _counts() -> list[tuple[str, str, str, str, int]]:
    with get_engine().connect() as conn:
        return [(r["wave"], r["audience"], r["language"], r["link"], r["clicks"]) for r in click_counts(conn, "mini")]


def test_a_click_redirects_and_counts_once(client: TestClient) -> None:
    url = tracked_url("mini", "first", "youth", "fr", LINK, "http://testserver")
    response = client.get(url.removeprefix("http://testserver"), follow_redirects=False)
    assert response.status_code == 302
    assert response.headers["location"] == LINK
    assert "set-cookie" not in response.headers
    assert _counts() == [("first", "youth", "fr", LINK, 1)]
    client.get(url.removeprefix("http://testserver"), follow_redirects=False)
    assert _counts() == [("first", "youth", "fr", LINK, 2)]


def test_counts_are_kept_per_wave_audience_language_and_link(client: TestClient) -> None:
    for key in (
        ("first", "youth", "fr", LINK),
        ("first", "youth", "nl", LINK),
        ("second", "citizens", "fr", LINK),
        ("first", "youth", "fr", "https://example.org/other"),
    ):
        client.get("/c/" + click_token("mini", *key), follow_redirects=False)
    client.get("/c/" + click_token("mini", "first", "youth", "fr", LINK), follow_redirects=False)
    assert _counts() == [
        ("first", "youth", "fr", LINK, 2),
        ("first", "youth", "fr", "https://example.org/other", 1),
        ("first", "youth", "nl", LINK, 1),
        ("second", "citizens", "fr", LINK, 1),
    ]
    with get_engine().connect() as conn:
        assert [r["wave"] for r in click_counts(conn, "mini", "second")] == ["second"]
        columns = set(ClickCount.__table__.columns.keys())
    assert columns == {"id", "campaign_id", "wave_id", "audience_id", "language", "link_hash", "link", "clicks"}


def test_a_forged_or_damaged_token_is_404_and_counts_nothing(client: TestClient) -> None:
    good = click_token("mini", "first", "youth", "fr", LINK)
    payload = (
        base64.urlsafe_b64encode(json.dumps(["mini", "first", "youth", "fr", "https://evil.example/"]).encode())
        .decode()
        .rstrip("=")
    )
    for token in ("nope", good[:-2] + "xx", payload + "." + good.split(".")[-1]):
        response = client.get(f"/c/{token}", follow_redirects=False)
        assert response.status_code == 404
        assert "location" not in response.headers
    assert _counts() == []
    with pytest.raises(InvalidClick):
        read_token(payload)


def test_the_token_carries_no_person(database_url: str) -> None:
    token = click_token("mini", "first", "youth", "fr", LINK)
    payload = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    assert payload == ["mini", "first", "youth", "fr", LINK]
    assert token == click_token("mini", "first", "youth", "fr", LINK)  # same for every recipient


def test_only_web_links_can_be_tracked() -> None:
    for link in ("mailto:team@example.org", "javascript:alert(1)", "/relative"):
        with pytest.raises(WavecastError):
            click_token("mini", "first", "youth", "fr", link)


def test_with_click_tracking_on_newsletter_links_go_through_the_redirect(database_url: str, tmp_path: Path) -> None:
    from campaign.segment import render_segment

    camp = copy_campaign(tmp_path)
    edit(camp / "campaign.yaml", "  blackout_dates:", "  click_tracking: true\n  blackout_dates:")
    html = render_segment(load_bundle(camp), "first", "youth", "fr", "newsletter").html
    assert "/c/" in html
    with TestClient(create_app(), client=("127.0.0.1", 40001)) as client:
        start = html.index("/c/")
        token = html[start + 3 : html.index('"', start)]
        response = client.get(f"/c/{token}", follow_redirects=False)
    assert response.status_code == 302 and response.headers["location"].startswith("https://example.org/fr")
    assert _counts()[0][:3] == ("first", "youth", "fr")


def test_off_by_default(database_url: str) -> None:
    from campaign.segment import render_segment
    from tests.campaign_copy import MINIMAL

    html = render_segment(load_bundle(MINIMAL), "first", "youth", "fr", "newsletter").html
    assert "/c/" not in html
    with get_engine().connect() as conn:
        assert conn.execute(select(ClickCount)).first() is None
