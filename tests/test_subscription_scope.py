"""Unsubscribe scope, pause and interests: what audiences, forecast, coverage and the send-time
claim make of them (on SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from audiences.coverage import coverage
from audiences.forecast import forecast
from audiences.models import contacts
from audiences.preferences import CAMPAIGN, EVERYTHING, set_interests, unsubscribe
from audiences.segments import eligible
from audiences.upsert import add_contacts
from campaign.bundle import load_spec
from campaign.db import get_engine
from tests.campaign_copy import copy_campaign, edit, line_of
from tests.cli import wavecast
from tests.conftest import SMARTNATION
from tests.sending_setup import add_contacts as add_many
from tests.test_sweeper import ledger_in_state
from waves import ledger
from waves.models import Delivery, WaveRun

SPEC = load_spec(SMARTNATION)[0]
ID = SPEC.campaign.id


def _mail(lang: str = "nl") -> dict[str, int]:
    """Per wave: the e-mails the forecast says go out in `lang`."""
    with get_engine().connect() as conn:
        waves = forecast(conn, SPEC)
    return {
        w.wave_id: sum(c.count for c in w.counts if c.channel == "newsletter" and c.language == lang) for w in waves
    }


def _people() -> dict[str, int]:
    rows = [{"email": f"{name}@example.org", "language": "nl"} for name in ("ann", "bob", "cas", "dee")]
    return dict(zip(("ann", "bob", "cas", "dee"), add_contacts(rows), strict=True))


def test_leaving_this_campaign_stops_only_this_campaign(database_url: str) -> None:
    people = _people()
    assert _mail()["launch"] == 4
    with get_engine().begin() as conn:
        assert unsubscribe(conn, people["ann"], ID, CAMPAIGN, "nl", "page")
        assert not unsubscribe(conn, people["ann"], ID, CAMPAIGN, "nl", "page")  # once is enough
        assert unsubscribe(conn, people["bob"], "another-campaign", CAMPAIGN, "nl", "page")
        assert unsubscribe(conn, people["cas"], ID, EVERYTHING, "nl", "page")
    assert _mail()["launch"] == 2  # bob (who left another campaign) and dee
    with get_engine().connect() as conn:
        for_other = conn.scalar(select(func.count()).select_from(contacts).where(eligible("another-campaign")))
        cover = coverage(conn, SPEC, dt.date(2023, 6, 12))
    assert for_other == 2  # ann (who left only ours) and dee
    assert (cover.unsubscribed, cover.left_campaign, cover.eligible) == (1, 1, 2)


def test_a_pause_holds_mail_until_its_date_and_no_longer(database_url: str) -> None:
    people = _people()
    with get_engine().begin() as conn:
        # The women wave starts on 26 June 2023, the youth wave on 4 July.
        conn.execute(update(contacts).where(contacts.c.id == people["dee"]).values(paused_until=dt.date(2023, 7, 1)))
    mail = _mail()
    assert (mail["launch"], mail["everyday-digital"]) == (3, 4)
    with get_engine().connect() as conn:
        assert coverage(conn, SPEC, dt.date(2023, 6, 30)).paused == 1
        assert coverage(conn, SPEC, dt.date(2023, 7, 1)).paused == 0


def test_an_interest_puts_a_person_in_the_audiences_its_tags_name(database_url: str) -> None:
    people = _people()
    assert _mail()["women"] == 0
    with get_engine().begin() as conn:
        set_interests(conn, people["ann"], ID, ["women-in-digital"])
        set_interests(conn, people["bob"], "another-campaign", ["women-in-digital"])  # not this campaign's
        set_interests(conn, people["cas"], ID, ["company"])
    mail = _mail()
    assert mail["women"] == 1
    assert mail["companies"] == 1
    with get_engine().begin() as conn:
        set_interests(conn, people["ann"], ID, [])
    assert _mail()["women"] == 0


def test_the_send_time_claim_skips_who_left_this_campaign_or_paused(tmp_path: Path, database_url: str) -> None:
    ids = add_many(4)
    run = ledger_in_state(tmp_path, "running")
    with get_engine().begin() as conn:
        campaign_id = conn.scalar(select(WaveRun.campaign_id).where(WaveRun.id == run.id))
        unsubscribe(conn, ids[0], campaign_id, CAMPAIGN, "nl", "one-click")
        unsubscribe(conn, ids[1], "another-campaign", CAMPAIGN, "fr", "one-click")
        tomorrow = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1)
        conn.execute(update(contacts).where(contacts.c.id == ids[2]).values(paused_until=tomorrow))
        rows = conn.execute(select(func.min(Delivery.id), func.max(Delivery.id)).where(Delivery.run_id == run.id)).one()
        claimed = ledger.claim(conn, run.id, rows[0], rows[1], "test-worker", 100)
        skipped = set(
            conn.scalars(select(Delivery.contact_id).where(Delivery.run_id == run.id, Delivery.status == "skipped"))
        )
    assert skipped == {ids[0], ids[2]}
    assert {c.contact_id for c in claimed if c.contact_id is not None} == {ids[1], ids[3]}


def test_the_migration_builds_the_tables_the_models_describe(database_url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from campaign.db import Base

    mine = {"consent_records", "campaign_unsubscribes", "contact_interests", "subscription_requests"}
    mine |= {"preference_changes", "subscription_events", "paused_until"}
    with get_engine().connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert [d for d in diffs if any(f"'{name}'" in repr(d) for name in mine)] == []


def test_validate_names_the_place_of_a_bad_colour_logo_or_interest_tag(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    camp = copy_campaign(tmp_path, SMARTNATION)
    yaml_file = camp / "campaign.yaml"
    edit(yaml_file, '    primary: "#12355b"', '    primary: "navy"')
    edit(yaml_file, "    logo: images/logo.png", "    logo: images/missing.png")
    edit(yaml_file, "    tags: [research]", "    tags: [reseach]")
    result = wavecast(capsys, "validate", str(camp))
    assert result.code != 0
    out = result.out + result.err
    assert f"campaign.yaml:{line_of(yaml_file, 'primary:')}:" in out and "write it as #rrggbb" in out
    assert f"campaign.yaml:{line_of(yaml_file, 'logo: images')}:" in out and "no such file" in out
    assert f"campaign.yaml:{line_of(yaml_file, '[reseach]')}:" in out and "no audience's rule reads the tag" in out
