"""Segment rules from campaign.yaml compiled to SQL boolean expressions over ``contacts``.

A rule is never evaluated in Python per contact: it becomes a WHERE clause the database runs,
with the same result on SQLite and PostgreSQL. Every leaf is NULL-safe (an unknown birth year
or region is simply "no match", never SQL NULL), so ``not`` means what it says.

How the fields are read:
- ``age {min, max}``: age = the wave's year - birth_year (the birthday within the year is not
  known, so everyone born in 2000 is 25 throughout 2025). Unknown birth year: no match.
- ``organisation_founded``: ``within_years: n`` means founded on or after the wave's date minus
  n years and not after the wave's date; ``after``/``before`` are strict.
- ``language``: the contact's language as the campaign will use it (see ``contact_language``).
- ``tag``, ``region``, ``organisation_kind``: compared lower-case, as the importer stores them.
- ``attribute``: custom CSV columns; ``equals``/``in`` compare the stored text exactly.

Unsubscribed contacts and contacts on the suppression list are in no segment: every public
function here puts ``eligible()`` in front of the rule. Given a campaign, ``eligible`` also
leaves out who unsubscribed from that campaign only; given a date, who paused mail past it.

A ``tag`` rule also matches the people who chose, for this campaign, an interest that
campaign.yaml maps to the tag (``interests: [{id, tags}]``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    case,
    exists,
    false,
    literal,
    not_,
    or_,
    select,
    true,
)

from audiences.models import contact_attributes, contact_tags, contacts, suppressions
from audiences.subscription_models import campaign_unsubscribes, contact_interests
from campaign.model import Campaign, Rule

c = contacts.c


def contact_language(languages: Sequence[str]) -> ColumnElement[str]:
    """The language a contact gets: their own if the campaign has it, else the campaign's first."""
    return case((c.language.in_(list(languages)), c.language), else_=literal(languages[0]))


def eligible(
    campaign_id: str | ColumnElement[str] | None = None, on: dt.date | ColumnElement[dt.date] | None = None
) -> ColumnElement[bool]:
    """May this contact be messaged: not unsubscribed from everything, not on the suppression
    list; with `campaign_id`, not unsubscribed from that campaign; with `on`, not paused past it.

    `campaign_id` and `on` may be SQL expressions (the send-time check reads the run's campaign)."""
    suppressed = exists().where(suppressions.c.email_hash == c.email_hash)
    parts: list[ColumnElement[bool]] = [c.unsubscribed_at.is_(None), not_(suppressed)]
    if campaign_id is not None:
        u = campaign_unsubscribes.c
        parts.append(not_(exists().where(u.contact_id == c.id, u.campaign_id == campaign_id)))
    if on is not None:
        parts.append(or_(c.paused_until.is_(None), c.paused_until <= on))
    return and_(*parts)


def eligible_for(spec: Campaign, on: dt.date) -> ColumnElement[bool]:
    """Eligible for this campaign at a date: the scope every count and segment of it uses."""
    return eligible(spec.campaign.id, on)


def interest_tags(spec: Campaign) -> dict[str, tuple[str, ...]]:
    """tag -> the ids of the campaign's interests that carry it."""
    found: dict[str, list[str]] = {}
    for interest in spec.interests:
        for tag in interest.tags:
            found.setdefault(tag.strip().lower(), []).append(interest.id)
    return {tag: tuple(ids) for tag, ids in found.items()}


def tag_scope(spec: Campaign) -> TagScope:
    return TagScope(spec.campaign.id, interest_tags(spec))


class TagScope:
    """What a tag rule also matches: the interests of one campaign that map to the tag."""

    def __init__(self, campaign_id: str, by_tag: dict[str, tuple[str, ...]]) -> None:
        self.campaign_id = campaign_id
        self.by_tag = by_tag

    def chosen(self, tag: str) -> ColumnElement[bool] | None:
        ids = self.by_tag.get(tag)
        if not ids:
            return None
        i = contact_interests.c
        return exists().where(i.contact_id == c.id, i.campaign_id == self.campaign_id, i.interest_id.in_(list(ids)))


def local_date(spec: Campaign, at: dt.datetime) -> dt.date:
    """The calendar date of a moment in the campaign's time zone."""
    return at.astimezone(spec.campaign.tz).date() if at.tzinfo else at.date()


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February in a year without one
        return day.replace(year=day.year - years, day=28)


def _known_in(column: ColumnElement[str], values: Sequence[str]) -> ColumnElement[bool]:
    return and_(column.is_not(None), column.in_([v.lower() for v in values]))


def compile_rule(
    rule: Rule, on: dt.date, languages: Sequence[str], tags: TagScope | None = None
) -> ColumnElement[bool]:
    """The rule as a SQL boolean over ``contacts``, for a wave dated ``on``; `tags` adds the
    campaign's interests to its tag rules."""
    kind = rule.kind
    if kind == "everyone":
        return true()
    if kind == "all":
        parts = [compile_rule(r, on, languages, tags) for r in rule.all or ()]
        return and_(true(), *parts)
    if kind == "any":
        parts = [compile_rule(r, on, languages, tags) for r in rule.any or ()]
        return or_(false(), *parts)
    if kind == "not_":
        assert rule.not_ is not None
        return not_(compile_rule(rule.not_, on, languages, tags))
    if kind == "tag":
        assert rule.tag is not None
        tag = rule.tag.strip().lower()
        held = exists().where(contact_tags.c.contact_id == c.id, contact_tags.c.tag == tag)
        chosen = tags.chosen(tag) if tags is not None else None
        return held if chosen is None else or_(held, chosen)
    if kind == "language":
        return contact_language(languages).in_(list(rule.language or ()))
    if kind == "age":
        assert rule.age is not None
        bounds: list[ColumnElement[bool]] = [c.birth_year.is_not(None)]
        if rule.age.min is not None:
            bounds.append(c.birth_year <= on.year - rule.age.min)
        if rule.age.max is not None:
            bounds.append(c.birth_year >= on.year - rule.age.max)
        return and_(*bounds)
    if kind == "organisation_kind":
        return _known_in(c.organisation_kind, rule.organisation_kind or ())
    if kind == "region":
        return _known_in(c.region, rule.region or ())
    if kind == "organisation_founded":
        founded = rule.organisation_founded
        assert founded is not None
        col = c.organisation_founded
        limits: list[ColumnElement[bool]] = [col.is_not(None)]
        if founded.within_years is not None:
            limits += [col >= _years_before(on, founded.within_years), col <= on]
        if founded.after is not None:
            limits.append(col > founded.after)
        if founded.before is not None:
            limits.append(col < founded.before)
        return and_(*limits)
    if kind == "attribute":
        test = rule.attribute
        assert test is not None
        a = contact_attributes.c
        held = exists().where(a.contact_id == c.id, a.name == test.name)
        if test.present is not None:
            return held if test.present else not_(held)
        if test.equals is not None:
            return exists().where(a.contact_id == c.id, a.name == test.name, a.value == test.equals)
        return exists().where(a.contact_id == c.id, a.name == test.name, a.value.in_(list(test.in_ or ())))
    raise ValueError(f"unknown rule kind {kind!r}")  # pragma: no cover - the model forbids it


def audience_condition(spec: Campaign, audience_id: str, on: dt.date) -> ColumnElement[bool]:
    """Membership of one audience, eligibility included."""
    rule = spec.audience(audience_id).rule
    return and_(eligible_for(spec, on), compile_rule(rule, on, spec.campaign.languages, tag_scope(spec)))


def segment_select(spec: Campaign, audience_id: str, at: dt.datetime) -> Select:
    """The ids of the contacts in one audience at a moment (a wave's start)."""
    on = local_date(spec, at)
    return select(c.id).where(audience_condition(spec, audience_id, on)).order_by(c.id)


def is_everyone(rule: Rule) -> bool:
    """A campaign-wide rule (``everyone: true``), like the ``citizens`` audience."""
    return rule.everyone is True
