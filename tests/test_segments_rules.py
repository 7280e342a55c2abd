"""Segment rules compiled to SQL: each rule kind, NULL-safety, wave-dated ages, consent."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import String, column, insert, select, table

from audiences.assignment import assignment_select
from audiences.consent import erase, unsubscribe_email
from audiences.models import suppressions
from audiences.normalise import email_hash
from audiences.segments import segment_select
from audiences.upsert import add_contacts
from campaign.db import get_engine, utcnow
from campaign.model import Campaign

MINIMAL = Path(__file__).parent / "fixtures" / "minimal" / "campaign.yaml"
WAVE_START = dt.datetime(2025, 6, 2, 10, tzinfo=dt.UTC)


def make_spec(
    audiences: dict[str, Any],
    messages: list[dict[str, Any]] | None = None,
    languages: tuple[str, ...] = ("nl", "fr", "de", "en"),
) -> Campaign:
    """The minimal campaign with these audiences and one wave of these messages."""
    data = yaml.safe_load(MINIMAL.read_text(encoding="utf-8"))
    data["campaign"]["languages"] = list(languages)
    data["audiences"] = [{"id": k, "title": {"en": k}, "rule": v} for k, v in audiences.items()]
    if messages is None:
        messages = [{"id": a, "audiences": [a], "channels": ["newsletter"], "template": "hello/all"} for a in audiences]
    data["waves"] = [{"id": "w", "title": {"en": "W"}, "start": dt.datetime(2025, 6, 2, 12), "messages": messages}]
    return Campaign.model_validate(data)


def members(spec: Campaign, audience: str, at: dt.datetime = WAVE_START) -> set[str]:
    from audiences.models import contacts

    ids = segment_select(spec, audience, at).subquery()
    query = select(contacts.c.email).where(contacts.c.id.in_(select(ids.c.id)))
    with get_engine().connect() as conn:
        return {e.split("@")[0] for e in conn.execute(query).scalars()}


def people(*records: dict[str, Any]) -> None:
    add_contacts([{**r, "email": f"{r['email']}@example.org"} for r in records])


@pytest.mark.usefixtures("database_url")
def test_each_rule_kind_selects_the_right_contacts() -> None:
    people(
        {"email": "ann", "tags": ["women"], "birth_year": 2003, "language": "nl", "region": "flanders"},
        {
            "email": "bob",
            "birth_year": 1955,
            "language": "fr",
            "region": "wallonia",
            "organisation_kind": "company",
            "organisation_founded": dt.date(2023, 1, 10),
        },
        {
            "email": "cas",
            "language": "de",
            "region": "east-belgium",
            "organisation_kind": "public",
            "attributes": {"sector": "ict"},
        },
        {
            "email": "dee",
            "language": "es",
            "organisation_kind": "company",
            "organisation_founded": dt.date(1990, 5, 1),
            "attributes": {"sector": "care"},
        },
    )
    spec = make_spec(
        {
            "everyone": {"everyone": True},
            "women": {"tag": "Women"},
            "youth": {"age": {"min": 16, "max": 25}},
            "seniors": {"age": {"min": 65}},
            "dutch": {"language": ["nl"]},
            "english": {"language": ["en"]},
            "companies": {"organisation_kind": ["company"]},
            "starters": {"all": [{"organisation_kind": ["company"]}, {"organisation_founded": {"within_years": 3}}]},
            "old-firms": {"organisation_founded": {"before": "2000-01-01"}},
            "south": {"region": ["Wallonia", "east-belgium"]},
            "ict": {"attribute": {"name": "sector", "equals": "ict"}},
            "sectors": {"attribute": {"name": "sector", "in": ["ict", "care"]}},
            "no-sector": {"attribute": {"name": "sector", "present": False}},
            "young-or-women": {"any": [{"tag": "women"}, {"age": {"max": 25}}]},
        }
    )
    assert members(spec, "everyone") == {"ann", "bob", "cas", "dee"}
    assert members(spec, "women") == {"ann"}
    assert members(spec, "youth") == {"ann"}  # 2025 - 2003 = 22
    assert members(spec, "seniors") == {"bob"}  # 2025 - 1955 = 70
    assert members(spec, "dutch") == {"ann", "dee"}  # 'es' is not a campaign language: nl, the first
    assert members(spec, "english") == set()
    assert members(spec, "companies") == {"bob", "dee"}
    assert members(spec, "starters") == {"bob"}
    assert members(spec, "old-firms") == {"dee"}
    assert members(spec, "south") == {"bob", "cas"}
    assert members(spec, "ict") == {"cas"}
    assert members(spec, "sectors") == {"cas", "dee"}
    assert members(spec, "no-sector") == {"ann", "bob"}
    assert members(spec, "young-or-women") == {"ann"}


@pytest.mark.usefixtures("database_url")
def test_not_of_an_unknown_value_matches() -> None:
    """An unknown birth year or region is 'no match', so `not` includes the contact (no SQL NULL)."""
    people({"email": "unknown"}, {"email": "young", "birth_year": 2005, "region": "brussels"})
    spec = make_spec(
        {
            "not-youth": {"not": {"age": {"min": 16, "max": 25}}},
            "not-brussels": {"not": {"region": ["brussels"]}},
            "not-company": {"not": {"organisation_kind": ["company"]}},
            "not-new": {"not": {"organisation_founded": {"after": "2020-01-01"}}},
        }
    )
    assert members(spec, "not-youth") == {"unknown"}
    assert members(spec, "not-brussels") == {"unknown"}
    assert members(spec, "not-company") == {"unknown", "young"}
    assert members(spec, "not-new") == {"unknown", "young"}


@pytest.mark.usefixtures("database_url")
def test_age_is_read_at_the_wave_date() -> None:
    people({"email": "turns-26", "birth_year": 2000})
    spec = make_spec({"youth": {"age": {"min": 16, "max": 25}}})
    assert members(spec, "youth", dt.datetime(2025, 12, 31, 22, 0, tzinfo=dt.UTC)) == {"turns-26"}
    # 31 Dec 23:30 UTC is already 1 January 2026 in Brussels: age 26.
    assert members(spec, "youth", dt.datetime(2025, 12, 31, 23, 30, tzinfo=dt.UTC)) == set()


@pytest.mark.usefixtures("database_url")
def test_starters_are_read_at_the_wave_date() -> None:
    people({"email": "young-firm", "organisation_kind": "company", "organisation_founded": dt.date(2022, 6, 1)})
    spec = make_spec({"starters": {"organisation_founded": {"within_years": 3}}})
    assert members(spec, "starters", dt.datetime(2025, 6, 1, 10, tzinfo=dt.UTC)) == {"young-firm"}
    assert members(spec, "starters", dt.datetime(2025, 6, 2, 10, tzinfo=dt.UTC)) == set()
    assert members(spec, "starters", dt.datetime(2022, 5, 31, 10, tzinfo=dt.UTC)) == set()


@pytest.mark.usefixtures("database_url")
def test_unsubscribed_and_suppressed_contacts_are_in_no_segment() -> None:
    people({"email": "stays"}, {"email": "left"}, {"email": "erased"}, {"email": "raced"})
    unsubscribe_email("left@example.org")
    erase("erased@example.org")
    # A suppression recorded while the contact row still exists (e.g. during an import).
    with get_engine().begin() as conn:
        conn.execute(
            insert(suppressions).values(
                email_hash=email_hash("raced@example.org"), reason="erased", created_at=utcnow()
            )
        )
    spec = make_spec({"everyone": {"everyone": True}})
    assert members(spec, "everyone") == {"stays"}
    with get_engine().connect() as conn:
        rows = conn.execute(assignment_select(spec, "w", WAVE_START)).all()
    assert len(rows) == 1


@pytest.mark.usefixtures("database_url")
def test_wave_message_order_decides_and_each_person_gets_one_message_per_channel() -> None:
    people(
        {"email": "young-woman", "tags": ["women"], "birth_year": 2004, "language": "fr"},
        {"email": "young-man", "birth_year": 2004},
        {"email": "other", "birth_year": 1980, "language": "de"},
    )
    spec = make_spec(
        {"citizens": {"everyone": True}, "women": {"tag": "women"}, "youth": {"age": {"min": 16, "max": 25}}},
        messages=[
            {"id": "for-women", "audiences": ["women"], "channels": ["newsletter"], "template": "t"},
            {"id": "for-youth", "audiences": ["youth", "women"], "channels": ["newsletter", "x"], "template": "t"},
            {"id": "for-all", "audiences": ["citizens"], "channels": ["newsletter", "x"], "template": "t"},
        ],
    )
    with get_engine().connect() as conn:
        rows = conn.execute(assignment_select(spec, "w", WAVE_START)).mappings().all()
        emails = dict(
            conn.execute(
                select(column("id"), column("email")).select_from(table("contacts", column("id"), column("email")))
            ).all()
        )
    got = {
        (emails[r["contact_id"]].split("@")[0], r["channel"]): (r["message_id"], r["audience_id"], r["language"])
        for r in rows
    }
    assert len(got) == len(rows)
    assert got == {
        ("young-woman", "newsletter"): ("for-women", "women", "fr"),
        ("young-woman", "x"): ("for-youth", "youth", "fr"),
        ("young-man", "newsletter"): ("for-youth", "youth", "nl"),
        ("young-man", "x"): ("for-youth", "youth", "nl"),
        ("other", "newsletter"): ("for-all", "citizens", "de"),
        ("other", "x"): ("for-all", "citizens", "de"),
    }


@pytest.mark.usefixtures("database_url")
def test_assignment_select_feeds_insert_from_select() -> None:
    """The sending feature writes ledger rows with INSERT ... SELECT: it works on both dialects."""
    from sqlalchemy import Column, Integer, MetaData, Table

    people({"email": "a", "birth_year": 2004}, {"email": "b"}, {"email": "c", "language": "en"})
    spec = make_spec(
        {"citizens": {"everyone": True}, "youth": {"age": {"max": 25}}},
        messages=[
            {"id": "y", "audiences": ["youth"], "channels": ["newsletter"], "template": "t"},
            {"id": "all", "audiences": ["citizens"], "channels": ["newsletter", "x"], "template": "t"},
        ],
    )
    ledger = Table(
        "test_ledger",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("contact_id", Integer),
        Column("channel", String(16)),
        Column("message_id", String(64)),
        Column("audience_id", String(64)),
        Column("language", String(8)),
    )
    engine = get_engine()
    ledger.create(engine)
    try:
        source = assignment_select(spec, "w", WAVE_START)
        names = ["contact_id", "channel", "message_id", "audience_id", "language"]
        with engine.begin() as conn:
            conn.execute(insert(ledger).from_select(names, source))
            stored = conn.execute(select(ledger.c.message_id, ledger.c.channel)).all()
        assert sorted(stored) == sorted(
            [
                ("y", "newsletter"),
                ("all", "x"),
                ("all", "newsletter"),
                ("all", "x"),
                ("all", "newsletter"),
                ("all", "x"),
            ]
        )
    finally:
        ledger.drop(engine)
