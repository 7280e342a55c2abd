"""The timeline: waves on a month and a week calendar, shaded days, and moving a draft wave,
which rewrites its day in campaign.yaml or is refused with the reason."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from campaign.reschedule import file_hash
from tests.accounts_setup import TESTER, approver
from tests.operator_client import TestClient, operator_client, post_as_operator
from tests.sending_setup import add_contacts, approved_campaign
from waves.approval import approval_state
from waves.launch import launch_wave


@pytest.fixture
def camp(tmp_path: Path, database_url: str) -> Path:
    return approved_campaign(tmp_path).root


@pytest.fixture
def client(camp: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    with operator_client(camp, monkeypatch) as test_client:
        yield test_client


def _move(client: TestClient, camp: Path, wave: str, day: str, seen: str | None = None) -> Any:
    return post_as_operator(client, f"/waves/{wave}/move", {"day": day, "seen_hash": seen or file_hash(camp)})


def test_the_month_shows_waves_on_their_days_with_closed_and_blackout_days_shaded(client: TestClient) -> None:
    html = client.get("/timeline", params={"month": "2023-06"}).text
    first = re.search(r'<td class="([^"]*)" data-day="2023-06-12">(.*?)</td>', html, re.S)
    assert first is not None and "first" in first.group(2) and "10:00" in first.group(2)
    saturday = re.search(r'<td class="([^"]*)" data-day="2023-06-17">', html)
    assert saturday is not None and "closed" in saturday.group(1)
    july = client.get("/timeline", params={"month": "2023-07"}).text
    holiday = re.search(r'<td class="([^"]*)" data-day="2023-07-21">(.*?)</td>', july, re.S)
    assert holiday is not None and "blackout" in holiday.group(1) and "Nationale feestdag" in holiday.group(2)
    week = client.get("/timeline", params={"week": "2023-06-14"}).text
    assert week.count("<li class=") == 7 and 'data-day="2023-06-12"' in week and 'data-day="2023-06-18"' in week
    assert client.get("/timeline", params={"month": "June"}).status_code == 400


def test_moving_a_draft_wave_rewrites_its_day_and_voids_its_approvals(client: TestClient, camp: Path) -> None:
    from campaign.bundle import load_bundle
    from campaign.db import session_scope

    moved = _move(client, camp, "first", "2023-06-13")
    assert moved.status_code == 303 and moved.headers["location"] == "/timeline?month=2023-06&done=moved"
    assert "    start: 2023-06-13T10:00\n" in (camp / "campaign.yaml").read_text()
    with session_scope() as session:
        assert not approval_state(session, load_bundle(camp), "first").valid  # the content changed
    assert "The wave was moved" in client.get(moved.headers["location"]).text
    from accounts import audit
    from campaign.db import get_engine

    with get_engine().connect() as conn:
        [entry] = [e for e in audit.entries(conn) if e["action"] == "wave.edit"]
    assert entry["object"] == "wave:mini:first" and entry["after"] == {"start": "2023-06-13T10:00:00+02:00"}
    assert entry["before"]["start"] == "2023-06-12T10:00:00+02:00"


@pytest.mark.parametrize(
    ("day", "status", "reason"),
    [
        ("2023-07-21", 400, "a blackout date (Nationale feestdag)"),
        ("2023-06-17", 400, "outside the send window"),
        ("17/06/2023", 400, "is not a date"),
    ],
)
def test_a_move_onto_a_day_that_breaks_a_rule_is_refused_with_the_reason(
    client: TestClient, camp: Path, day: str, status: int, reason: str
) -> None:
    before = (camp / "campaign.yaml").read_bytes()
    refused = _move(client, camp, "first", day)
    assert refused.status_code == status and reason in refused.text
    assert (camp / "campaign.yaml").read_bytes() == before


def test_a_move_on_an_old_view_or_of_a_launched_wave_is_refused(client: TestClient, camp: Path) -> None:
    seen = file_hash(camp)
    assert _move(client, camp, "second", "2023-06-20", seen).status_code == 303
    stale = _move(client, camp, "first", "2023-06-13", seen)  # the page was opened before that move
    assert stale.status_code == 409 and "reload" in stale.text

    add_contacts(2)
    from campaign.bundle import load_bundle
    from campaign.db import session_scope
    from waves.approval import approve

    bundle = load_bundle(camp)
    with session_scope() as session:
        approve(session, bundle, "first", approver(1))
    launch_wave(bundle, "first", TESTER)
    launched = _move(client, camp, "first", "2023-06-14")
    assert launched.status_code == 400 and "was launched" in launched.text


def test_moving_needs_the_operator(client: TestClient, camp: Path) -> None:
    csrf = client.get("/api/csrf").json()["csrf_token"]
    anonymous = client.post("/waves/first/move", data={"day": "2023-06-13", "csrf_token": csrf})
    assert anonymous.status_code == 401
    assert "start: 2023-06-12T10:00:00" in (camp / "campaign.yaml").read_text()


@pytest.mark.parametrize(
    "query",
    [{"month": "9999-12"}, {"month": "0001-01"}, {"week": "0001-01-01"}, {"week": "9999-12-31"}, {"month": "2023-13"}],
)
def test_a_month_or_week_the_calendar_cannot_show_is_a_clear_400(client: TestClient, query: dict[str, str]) -> None:
    """The grid and its previous/next links reach beyond the month: at the ends of the calendar
    they once overflowed into the 500 page."""
    answer = client.get("/timeline", params=query)
    assert answer.status_code == 400
    name, value = next(iter(query.items()))
    assert f"{name}=&#39;{value}&#39;" in answer.text or f"{name}='{value}'" in answer.text
    assert "YYYY-MM" in answer.text or "give a year from 2 to 9998" in answer.text
