"""Property: whatever the contacts and rules, consent holds and nobody gets two messages.

Random contacts (some unsubscribed, erased, or suppressed while their row still exists) and
random rule trees are compiled to SQL and run on SQLite and PostgreSQL. A small reference
evaluator in Python (the test's oracle only; wavecast never evaluates rules per contact)
checks the SQL's answer.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, insert

from audiences.assignment import assignment_select, wave_counts
from audiences.consent import erase, unsubscribe_email
from audiences.models import contact_attributes, contact_tags, contacts, suppressions
from audiences.normalise import email_hash
from audiences.segments import segment_select
from audiences.upsert import add_contacts
from campaign.db import get_engine, utcnow
from campaign.model import Campaign, Rule

MINIMAL = Path(__file__).parent / "fixtures" / "minimal" / "campaign.yaml"
LANGUAGES = ("fr", "nl")  # contacts with de/en/none fall back to fr
WAVE_AT = dt.datetime(2025, 6, 2, 10, tzinfo=dt.UTC)
ON = WAVE_AT.date()

leaf = st.one_of(
    st.just({"everyone": True}),
    st.builds(lambda t: {"tag": t}, st.sampled_from(["women", "ai"])),
    st.builds(lambda ls: {"language": ls}, st.lists(st.sampled_from(["nl", "fr", "de"]), min_size=1, max_size=2)),
    st.builds(lambda lo, span: {"age": {"min": lo, "max": lo + span}}, st.integers(0, 90), st.integers(0, 40)),
    st.builds(lambda lo: {"age": {"min": lo}}, st.integers(0, 90)),
    st.builds(
        lambda ks: {"organisation_kind": ks},
        st.lists(st.sampled_from(["company", "public", "nonprofit"]), min_size=1, max_size=2),
    ),
    st.builds(lambda n: {"organisation_founded": {"within_years": n}}, st.integers(1, 10)),
    st.builds(
        lambda d: {"organisation_founded": {"after": d.isoformat()}}, st.dates(dt.date(2010, 1, 1), dt.date(2025, 1, 1))
    ),
    st.builds(lambda rs: {"region": rs}, st.lists(st.sampled_from(["flanders", "brussels"]), min_size=1)),
    st.builds(lambda v: {"attribute": {"name": "sector", "equals": v}}, st.sampled_from(["ict", "care"])),
    st.builds(lambda p: {"attribute": {"name": "sector", "present": p}}, st.booleans()),
)
rules = st.recursive(
    leaf,
    lambda inner: st.one_of(
        st.builds(lambda rs: {"all": rs}, st.lists(inner, max_size=3)),
        st.builds(lambda rs: {"any": rs}, st.lists(inner, max_size=3)),
        st.builds(lambda r: {"not": r}, inner),
    ),
    max_leaves=6,
)
contact = st.fixed_dictionaries(
    {
        "state": st.sampled_from(["active", "active", "active", "unsubscribed", "erased", "suppressed"]),
        "tags": st.lists(st.sampled_from(["women", "ai"]), unique=True),
        "language": st.sampled_from([None, "nl", "fr", "de", "en"]),
        "birth_year": st.one_of(st.none(), st.integers(1925, 2015)),
        "organisation_kind": st.sampled_from([None, "company", "public", "nonprofit"]),
        "organisation_founded": st.one_of(st.none(), st.dates(dt.date(2010, 1, 1), dt.date(2026, 1, 1))),
        "region": st.sampled_from([None, "flanders", "brussels", "wallonia"]),
        "sector": st.sampled_from([None, "ict", "care"]),
    }
)


def holds(rule: Rule, c: dict[str, Any]) -> bool:
    """The oracle: what the rule means for one contact."""
    kind = rule.kind
    if kind == "everyone":
        return True
    if kind == "all":
        return all(holds(r, c) for r in rule.all or ())
    if kind == "any":
        return any(holds(r, c) for r in rule.any or ())
    if kind == "not_":
        assert rule.not_ is not None
        return not holds(rule.not_, c)
    if kind == "tag":
        return rule.tag in c["tags"]
    if kind == "language":
        lang = c["language"] if c["language"] in LANGUAGES else LANGUAGES[0]
        return lang in (rule.language or ())
    if kind == "age":
        assert rule.age is not None
        if c["birth_year"] is None:
            return False
        age = ON.year - c["birth_year"]
        return (rule.age.min is None or age >= rule.age.min) and (rule.age.max is None or age <= rule.age.max)
    if kind == "organisation_kind":
        return c["organisation_kind"] in (rule.organisation_kind or ())
    if kind == "region":
        return c["region"] in (rule.region or ())
    if kind == "organisation_founded":
        f, founded = rule.organisation_founded, c["organisation_founded"]
        assert f is not None
        if founded is None:
            return False
        if f.within_years is not None and not ON.replace(year=ON.year - f.within_years) <= founded <= ON:
            return False
        return f.after is None or founded > f.after
    if kind == "attribute":
        assert rule.attribute is not None
        if rule.attribute.present is not None:
            return (c["sector"] is not None) == rule.attribute.present
        return c["sector"] == rule.attribute.equals
    raise AssertionError(kind)


def load(people: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    """Empty the tables, store these people, apply their consent state; {id: person} of stored ones."""
    with get_engine().begin() as conn:
        for t in (contact_tags, contact_attributes, contacts, suppressions):
            conn.execute(delete(t))
    records = [
        {
            **{k: v for k, v in p.items() if k not in ("state", "sector")},
            "email": f"p{i}@example.org",
            "attributes": {"sector": p["sector"]} if p["sector"] else {},
        }
        for i, p in enumerate(people)
    ]
    ids = add_contacts(records)
    for i, p in enumerate(people):
        email = f"p{i}@example.org"
        if p["state"] == "unsubscribed":
            unsubscribe_email(email)
        elif p["state"] == "erased":
            erase(email)
        elif p["state"] == "suppressed":
            with get_engine().begin() as conn:
                conn.execute(
                    insert(suppressions).values(email_hash=email_hash(email), reason="erased", created_at=utcnow())
                )
    return {cid: p for cid, p in zip(ids, people, strict=True) if p["state"] != "erased"}


def spec_for(audience_rules: list[dict[str, Any]], plan: list[tuple[list[int], list[str]]]) -> Campaign:
    audiences = {f"a{i}": r for i, r in enumerate(audience_rules)}
    messages = [
        {"id": f"m{k}", "audiences": [f"a{i % len(audience_rules)}" for i in auds], "channels": chans, "template": "t"}
        for k, (auds, chans) in enumerate(plan)
    ]
    data = yaml.safe_load(MINIMAL.read_text(encoding="utf-8"))
    data["campaign"]["languages"] = list(LANGUAGES)
    data["audiences"] = [{"id": k, "title": {"fr": k}, "rule": v} for k, v in audiences.items()]
    data["waves"] = [{"id": "w", "title": {"fr": "W"}, "start": dt.datetime(2025, 6, 2, 12), "messages": messages}]
    return Campaign.model_validate(data)


@pytest.mark.usefixtures("database_url")
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(
    people=st.lists(contact, max_size=12),
    audience_rules=st.lists(rules, min_size=1, max_size=3),
    plan=st.lists(
        st.tuples(
            st.lists(st.integers(0, 2), min_size=1, max_size=2, unique=True),
            st.lists(st.sampled_from(["newsletter", "x"]), min_size=1, unique=True),
        ),
        min_size=1,
        max_size=3,
    ),
)
def test_consent_holds_and_nobody_gets_two_messages_per_channel(
    people: list[dict[str, Any]],
    audience_rules: list[dict[str, Any]],
    plan: list[tuple[list[int], list[str]]],
) -> None:
    stored = load(people)
    spec = spec_for(audience_rules, plan)
    active = {cid for cid, p in stored.items() if p["state"] == "active"}
    with get_engine().connect() as conn:
        for audience in spec.audiences:
            got = set(conn.execute(segment_select(spec, audience.id, WAVE_AT)).scalars())
            assert got <= active
            assert got == {cid for cid in active if holds(audience.rule, stored[cid])}
        rows = conn.execute(assignment_select(spec, "w", WAVE_AT)).all()
        counted = {
            (x.message_id, x.audience_id, x.language, x.channel): x.count for x in wave_counts(conn, spec, "w", WAVE_AT)
        }
    pairs = [(r.contact_id, r.channel) for r in rows]
    assert len(pairs) == len(set(pairs))
    assert {r.contact_id for r in rows} <= active
    wave = spec.wave("w")
    for r in rows:
        person = stored[r.contact_id]
        first = next(
            (m.id, a)
            for m in wave.messages
            if r.channel in m.channels
            for a in m.audiences
            if holds(spec.audience(a).rule, person)
        )
        assert (r.message_id, r.audience_id) == first
        assert r.language == (person["language"] if person["language"] in LANGUAGES else "fr")
    expected = {
        (cid, ch)
        for cid in active
        for ch in {c for m in wave.messages for c in m.channels}
        if any(
            ch in m.channels and holds(spec.audience(a).rule, stored[cid]) for m in wave.messages for a in m.audiences
        )
    }
    assert set(pairs) == expected
    tally: dict[tuple[str, str, str, str], int] = {}
    for r in rows:
        key = (r.message_id, r.audience_id, r.language, r.channel)
        tally[key] = tally.get(key, 0) + 1
    assert counted == tally  # the forecast's one-scan counts agree with the rows sent
