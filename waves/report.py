"""What each wave achieved: aggregates from the ledger, never a person.

Every figure is a count made by SQL ``GROUP BY`` (or ``COUNT(DISTINCT)``) over the delivery
ledger (e-mails and social posts alike), the contacts table and the click counters. No row of the report
names or identifies a contact; GOV.UK Notify takes the same stance.

Definitions:
- planned: ledger rows of the wave's run; sent, failed, skipped (unsubscribed, suppressed or
  cancelled) and pending (not finished yet) split them. A social post is one row, counted
  like an e-mail; `posts` and `published` repeat planned and sent for the platforms.
- unsubscribes within 7 days: contacts who received the wave (ledger row ``sent``) and whose
  ``unsubscribed_at`` falls in [run start, run start + 7 days). Erasure deletes a contact row,
  so a person who unsubscribed and was then erased no longer counts (nothing is kept that
  could count them without identifying them).
- reached (per ambition): distinct contacts with a ``sent`` row in a run of a wave that
  featured one of the ambition's initiatives. Erased contacts no longer count.
- coverage (per audience): of the audience's current members (eligible today), the share
  who received at least one message of the campaign.
- unsubscribes count leaving this campaign (``campaign_unsubscribes``) and leaving everything.
- subscriptions (per event × language × interest): double opt-in requests, confirmations,
  expiries and preference changes, from ``subscription_events`` (aggregate rows, no person).
- deliverability (per wave × audience × language, e-mail): delivered, hard and soft bounces,
  complaints, unsubscribes (the 7-day count above) and suppressed before sending, with their
  rates; defined in waves/deliverability.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import Connection, and_, case, exists, func, or_, select

from audiences.models import contacts
from audiences.preferences import subscription_counts
from audiences.segments import audience_condition, local_date
from audiences.subscription_models import campaign_unsubscribes
from campaign.bundle import Bundle
from campaign.channel_ids import NEWSLETTER, is_post
from campaign.clicks import click_counts
from campaign.db import utcnow
from campaign.errors import WavecastError
from campaign.model import Campaign
from campaign.render import translated
from campaign.timing import resolve_starts
from waves.deliverability import DeliverabilityLine, deliverability, total
from waves.models import FAILED, PENDING, SENDING, SENT, SKIPPED, Delivery, WaveRun

UNSUBSCRIBE_WINDOW = dt.timedelta(days=7)
_INSTANT = dt.timedelta(microseconds=1)  # BETWEEN is inclusive: the window is [start, start + 7 days)
u = campaign_unsubscribes.c


@dataclass
class SegmentLine:
    """One wave × audience × language × channel."""

    wave: str
    audience: str
    language: str
    channel: str
    planned: int = 0
    sent: int = 0
    failed: int = 0
    skipped: int = 0
    pending: int = 0
    unsubscribed_7d: int = 0
    posts: int = 0
    published: int = 0


@dataclass
class WaveLine:
    id: str
    title: str
    start: str  # local time, ISO 8601
    state: str  # the run's state, or "not launched"
    launched_at: str | None


@dataclass
class KpiLine:
    id: str
    title: str
    target: str
    unit: str


@dataclass
class AmbitionLine:
    id: str
    number: int
    title: str
    initiatives: list[str]
    waves: list[str]
    reached: int
    kpis: list[KpiLine]


@dataclass
class CoverageLine:
    audience: str
    title: str
    members: int
    reached: int

    @property
    def share(self) -> float:
        return self.reached / self.members if self.members else 0.0


@dataclass
class Report:
    campaign: str
    name: str
    lang: str
    generated_at: str
    wave: str | None
    waves: list[WaveLine] = field(default_factory=list)
    segments: list[SegmentLine] = field(default_factory=list)
    ambitions: list[AmbitionLine] = field(default_factory=list)
    coverage: list[CoverageLine] = field(default_factory=list)
    clicks: list[dict[str, Any]] = field(default_factory=list)
    subscriptions: list[dict[str, Any]] = field(default_factory=list)
    deliverability: list[DeliverabilityLine] = field(default_factory=list)

    def deliverability_total(self) -> DeliverabilityLine:
        return total(self.deliverability)

    def totals(self) -> dict[str, int]:
        keys = ("planned", "sent", "failed", "skipped", "pending", "unsubscribed_7d", "posts", "published")
        return {k: sum(getattr(s, k) for s in self.segments) for k in keys}

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        for line, item in zip(self.coverage, data["coverage"], strict=True):
            item["share"] = round(line.share, 4)
        for mail, item in zip(self.deliverability, data["deliverability"], strict=True):
            item.update(mail.rates())
        everything = self.deliverability_total()
        data["totals"] = self.totals()
        data["deliverability_totals"] = {
            k: v
            for k, v in {**asdict(everything), **everything.rates()}.items()
            if k not in ("wave", "audience", "language")
        }
        return data


def _runs(conn: Connection, campaign_id: str) -> list[Any]:
    """The campaign's runs as rows (id, wave_id, state, created_at, campaign_id)."""
    query = (
        select(WaveRun.id, WaveRun.wave_id, WaveRun.state, WaveRun.created_at, WaveRun.campaign_id)
        .where(WaveRun.campaign_id == campaign_id)
        .order_by(WaveRun.id)
    )
    return list(conn.execute(query))


def _segments(conn: Connection, runs: list[Any]) -> list[SegmentLine]:
    lines: dict[tuple[str, str, str, str], SegmentLine] = {}

    def line(wave: str, audience: str, language: str, channel: str) -> SegmentLine:
        key = (wave, audience, language, channel)
        if key not in lines:
            lines[key] = SegmentLine(*key)
        return lines[key]

    run_ids = [r.id for r in runs]
    if not run_ids:
        return []
    d = Delivery
    ledger = conn.execute(
        select(WaveRun.wave_id, d.audience_id, d.language, d.channel, d.status, func.count())
        .join(WaveRun, WaveRun.id == d.run_id)
        .where(d.run_id.in_(run_ids))
        .group_by(WaveRun.wave_id, d.audience_id, d.language, d.channel, d.status)
    )
    column: dict[str, str] = {
        SENT: "sent",
        FAILED: "failed",
        SKIPPED: "skipped",
        PENDING: "pending",
        SENDING: "pending",
    }
    for wave, audience, language, channel, status, count in ledger:
        target = line(wave, audience, language, channel)
        target.planned += int(count)
        name = column.get(status, "pending")
        setattr(target, name, getattr(target, name) + int(count))
        if is_post(channel):
            target.posts += int(count)
            target.published += int(count) if status == SENT else 0
    for run in runs:
        start = run.created_at
        unsubscribed = conn.execute(
            select(d.audience_id, d.language, d.channel, func.count(func.distinct(d.contact_id)))
            .join(contacts, contacts.c.id == d.contact_id)
            .where(
                d.run_id == run.id,
                d.status == SENT,
                or_(
                    contacts.c.unsubscribed_at.between(start, start + UNSUBSCRIBE_WINDOW - _INSTANT),
                    exists().where(
                        u.contact_id == d.contact_id,
                        u.campaign_id == run.campaign_id,
                        u.unsubscribed_at.between(start, start + UNSUBSCRIBE_WINDOW - _INSTANT),
                    ),
                ),
            )
            .group_by(d.audience_id, d.language, d.channel)
        )
        for audience, language, channel, count in unsubscribed:
            line(run.wave_id, audience, language, channel).unsubscribed_7d += int(count)
    return list(lines.values())


def _sent_to(campaign_id: str, waves: list[str] | None = None) -> Any:
    """EXISTS: this contact received a message of the campaign (of these waves)."""
    condition = and_(
        Delivery.contact_id == contacts.c.id,
        Delivery.status == SENT,
        WaveRun.id == Delivery.run_id,
        WaveRun.campaign_id == campaign_id,
    )
    if waves is not None:
        condition = and_(condition, WaveRun.wave_id.in_(waves))
    return exists().where(condition)


def _reached(conn: Connection, campaign_id: str, waves: list[str]) -> int:
    if not waves:
        return 0
    query = (
        select(func.count(func.distinct(Delivery.contact_id)))
        .join(WaveRun, WaveRun.id == Delivery.run_id)
        .where(WaveRun.campaign_id == campaign_id, WaveRun.wave_id.in_(waves), Delivery.status == SENT)
    )
    return int(conn.execute(query).scalar_one() or 0)


def _ambitions(conn: Connection, spec: Campaign, lang: str) -> list[AmbitionLine]:
    known = {i.id: i for i in spec.initiatives}
    lines = []
    for ambition in spec.ambitions:
        featured: dict[str, None] = {}
        waves: list[str] = []
        for wave in spec.waves:
            mine = [i for i in wave.initiatives if i in known and known[i].ambition == ambition.id]
            featured.update(dict.fromkeys(mine))
            if mine:
                waves.append(wave.id)
        lines.append(
            AmbitionLine(
                id=ambition.id,
                number=ambition.number,
                title=translated(spec, ambition.title, lang),
                initiatives=[translated(spec, known[i].title, lang) for i in featured],
                waves=waves,
                reached=_reached(conn, spec.campaign.id, waves),
                kpis=[KpiLine(k.id, translated(spec, k.title, lang), k.target, k.unit or "") for k in ambition.kpis],
            )
        )
    return lines


def _coverage(conn: Connection, spec: Campaign, lang: str, today: dt.date) -> list[CoverageLine]:
    lines = []
    sent = _sent_to(spec.campaign.id)
    for audience in spec.audiences:
        members, reached = conn.execute(
            select(func.count(), func.coalesce(func.sum(case((sent, 1), else_=0)), 0))
            .select_from(contacts)
            .where(audience_condition(spec, audience.id, today))
        ).one()
        lines.append(CoverageLine(audience.id, translated(spec, audience.title, lang), int(members), int(reached)))
    return lines


REPORT_STEPS = 5  # the queries of a report: segments, deliverability, ambitions, coverage, clicks


def build_report(
    conn: Connection,
    bundle: Bundle,
    wave: str | None = None,
    lang: str = "en",
    now: dt.datetime | None = None,
    done: Callable[[int, int], None] = lambda _n, _total: None,
) -> Report:
    """The whole report for a campaign (the segment lines of one wave only with ``wave``).

    `done(n, REPORT_STEPS)` hears each step finished: on a large database each takes a while."""
    spec = bundle.spec
    if wave is not None and wave not in {w.id for w in spec.waves}:
        raise WavecastError(f"unknown wave {wave!r}; the campaign's waves are: {', '.join(w.id for w in spec.waves)}")
    lang = lang if lang in spec.campaign.languages else spec.campaign.languages[0]
    now = now or utcnow()
    runs = _runs(conn, spec.campaign.id)
    by_wave = {r.wave_id: r for r in runs}
    starts = resolve_starts(spec)
    report = Report(
        campaign=spec.campaign.id,
        name=translated(spec, spec.campaign.name, lang),
        lang=lang,
        generated_at=now.isoformat(timespec="seconds"),
        wave=wave,
    )
    report.subscriptions = subscription_counts(conn, spec.campaign.id)  # for the whole campaign, any wave
    for w in spec.waves:
        if wave is not None and w.id != wave:
            continue
        run = by_wave.get(w.id)
        report.waves.append(
            WaveLine(
                id=w.id,
                title=translated(spec, w.title, lang),
                start=starts[w.id].isoformat(timespec="minutes"),
                state=run.state if run is not None else "not launched",
                launched_at=run.created_at.astimezone(spec.campaign.tz).isoformat(timespec="minutes") if run else None,
            )
        )
    order: dict[str, int] = {w.id: i for i, w in enumerate(spec.waves)}
    audiences: dict[str, int] = {a.id: i for i, a in enumerate(spec.audiences)}
    languages: dict[str, int] = {x: i for i, x in enumerate(spec.campaign.languages)}
    channels: dict[str, int] = {x: i for i, x in enumerate(spec.channels)}
    chosen = [r for r in runs if wave is None or r.wave_id == wave]
    segments = _segments(conn, chosen)
    done(1, REPORT_STEPS)
    report.segments = sorted(
        segments,
        key=lambda s: (
            order.get(s.wave, 99),
            audiences.get(s.audience, 99),
            languages.get(s.language, 99),
            channels.get(s.channel, 99),
            s.channel,
        ),
    )
    unsubscribes = {(s.wave, s.audience, s.language): s.unsubscribed_7d for s in segments if s.channel == NEWSLETTER}
    report.deliverability = sorted(
        deliverability(conn, [r.id for r in chosen], unsubscribes),
        key=lambda x: (order.get(x.wave, 99), audiences.get(x.audience, 99), languages.get(x.language, 99)),
    )
    done(2, REPORT_STEPS)
    report.ambitions = _ambitions(conn, spec, lang)
    done(3, REPORT_STEPS)
    report.coverage = _coverage(conn, spec, lang, local_date(spec, now))
    done(4, REPORT_STEPS)
    report.clicks = click_counts(conn, spec.campaign.id, wave)
    done(5, REPORT_STEPS)
    return report
