"""What became of a wave's e-mails, per wave × audience × language: counts and rates.

Aggregates only, like the rest of the report: counts of ledger rows and of bounce events
(waves/bounces), never an address. E-mail only (the newsletter channel): nothing bounces off a
social post, and an SMS gateway reports no bounces.

Definitions:
- e-mails sent, the base of the rates: rows our relay took (the ledger's `sent`) plus rows it
  refused at send time (a `failed` row with a bounce event). A refusal is a bounce, so it
  belongs in the base; otherwise a wave the relay refused outright would have none.
- delivered: rows our relay took (the ledger's `sent`). A bounce that comes back later counts
  here and in the bounces: the relay did take the message.
- hard bounces, soft bounces, complaints: messages with at least one event of that kind. A
  message first delayed, then refused counts in both soft and hard. An event keeps only the
  keyed hash of the address, so an erased person's bounce still counts.
- unsubscribes: as everywhere in the report, recipients (a `sent` row) who unsubscribed within
  7 days of the wave's launch. The unsubscribe link names the person, not the wave, so a person
  who received two waves within 7 days counts in both. A complaint unsubscribes too.
- suppressed before sending: rows skipped at send time because the person had unsubscribed,
  been erased or been suppressed after the ledger was made (``ledger.WITHDRAWN_NOTE``). These
  were never sent, so their rate is against the e-mails planned (the ledger rows), not sent.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, and_, case, exists, func, select

from campaign.channel_ids import NEWSLETTER
from waves.bounces.models import Kind, bounce_events
from waves.ledger import WITHDRAWN_NOTE
from waves.models import FAILED, SENT, SKIPPED, Delivery, WaveRun

Key = tuple[str, str, str]  # wave, audience, language

COUNTS = (
    "delivered",
    "hard_bounces",
    "soft_bounces",
    "complaints",
    "unsubscribes",
    "suppressed_before_sending",
)
_BY_KIND = {Kind.HARD.value: "hard_bounces", Kind.SOFT.value: "soft_bounces", Kind.COMPLAINT.value: "complaints"}


@dataclass
class DeliverabilityLine:
    """One wave × audience × language's e-mails."""

    wave: str
    audience: str
    language: str
    planned: int = 0  # e-mail ledger rows
    emails: int = 0  # e-mails sent: taken or refused by the relay; the rates' base
    delivered: int = 0
    hard_bounces: int = 0
    soft_bounces: int = 0
    complaints: int = 0
    unsubscribes: int = 0
    suppressed_before_sending: int = 0

    def base(self, metric: str) -> int:
        return self.planned if metric == "suppressed_before_sending" else self.emails

    def rate(self, metric: str) -> float | None:
        """The metric's share of its base; None when there is no base yet."""
        base = self.base(metric)
        return getattr(self, metric) / base if base else None

    def percent(self, metric: str) -> str | None:
        return percent_of(metric, self.rate(metric))

    def rates(self) -> dict[str, float | None]:
        return {f"{m}_rate": (None if (r := self.rate(m)) is None else round(r, 4)) for m in COUNTS}

    def add(self, other: DeliverabilityLine) -> None:
        for name in ("planned", "emails", *COUNTS):
            setattr(self, name, getattr(self, name) + getattr(other, name))


def deliverability(
    conn: Connection, run_ids: Sequence[int], unsubscribes: dict[Key, int] | None = None
) -> list[DeliverabilityLine]:
    """The lines of these runs, in no particular order; `unsubscribes` as the report counts them."""
    if not run_ids:
        return []
    lines: dict[Key, DeliverabilityLine] = {}

    def line(key: Key) -> DeliverabilityLine:
        if key not in lines:
            lines[key] = DeliverabilityLine(*key)
        return lines[key]

    d = Delivery
    bounced = exists().where(bounce_events.c.delivery_id == d.id)
    ledger = conn.execute(
        select(
            WaveRun.wave_id,
            d.audience_id,
            d.language,
            func.count(),
            func.sum(case((d.status == SENT, 1), else_=0)),
            func.sum(case((and_(d.status == FAILED, bounced), 1), else_=0)),
            func.sum(case((and_(d.status == SKIPPED, d.last_error == WITHDRAWN_NOTE), 1), else_=0)),
        )
        .join(WaveRun, WaveRun.id == d.run_id)
        .where(d.run_id.in_(list(run_ids)), d.channel == NEWSLETTER)
        .group_by(WaveRun.wave_id, d.audience_id, d.language)
    )
    for wave, audience, language, planned, sent, refused, withdrawn in ledger:
        target = line((wave, audience, language))
        target.planned += int(planned)
        target.delivered += int(sent or 0)
        target.emails += int(sent or 0) + int(refused or 0)
        target.suppressed_before_sending += int(withdrawn or 0)
    events = conn.execute(
        select(WaveRun.wave_id, d.audience_id, d.language, bounce_events.c.kind, func.count(func.distinct(d.id)))
        .select_from(bounce_events)
        .join(d, d.id == bounce_events.c.delivery_id)
        .join(WaveRun, WaveRun.id == d.run_id)
        .where(d.run_id.in_(list(run_ids)), d.channel == NEWSLETTER)
        .group_by(WaveRun.wave_id, d.audience_id, d.language, bounce_events.c.kind)
    )
    for wave, audience, language, kind, count in events:
        name = _BY_KIND.get(kind)
        if name is not None:
            target = line((wave, audience, language))
            setattr(target, name, getattr(target, name) + int(count))
    for key, count in (unsubscribes or {}).items():
        if key in lines:  # a wave without e-mails has no line here; its unsubscribes are in the report
            lines[key].unsubscribes += count
    return list(lines.values())


def percent_of(metric: str, rate: float | None) -> str | None:
    """A rate as a percentage to show: one decimal, two for complaints, whose line is 0.3 %."""
    if rate is None:
        return None
    return f"{rate * 100:.{2 if metric == 'complaints' else 1}f}"


def total(
    lines: Iterable[DeliverabilityLine], wave: str = "", audience: str = "", language: str = ""
) -> DeliverabilityLine:
    """The lines added up (a wave's, a campaign's)."""
    summed = DeliverabilityLine(wave, audience, language)
    for item in lines:
        summed.add(item)
    return summed
