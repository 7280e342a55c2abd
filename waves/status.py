"""Live status of wave runs: counts per audience x language x channel x status, from the ledger.

E-mails and social posts are ledger rows alike, so they are counted the same way, with the same
statuses, and a failed post shows its platform's reply as a failed e-mail shows its relay's.
Beside them: the run's bounces and complaints so far (waves/deliverability), and the bounce
breaker's reason when it paused the run.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, func, select
from sqlalchemy.orm import Session

from campaign.db import utcnow
from waves.bounces.breaker import NOTE_PREFIX
from waves.deliverability import COUNTS, deliverability, total
from waves.models import FAILED, PAUSED, PENDING, SENDING, STATUSES, Delivery, WaveRun

FAILURES_SHOWN = 20


def _failures(conn: Connection, run_id: int) -> list[dict[str, Any]]:
    """Why rows failed, most frequent first: the reply kept on the row (relay, platform, webhook)."""
    rows = conn.execute(
        select(Delivery.channel, Delivery.last_error, func.count())
        .where(Delivery.run_id == run_id, Delivery.status == FAILED)
        .group_by(Delivery.channel, Delivery.last_error)
        .order_by(func.count().desc(), Delivery.channel)
        .limit(FAILURES_SHOWN)
    ).all()
    return [{"channel": c, "reason": reason or "", "count": int(n)} for c, reason, n in rows]


def waiting(conn: Connection, run_id: int) -> list[dict[str, Any]]:
    """Pending rows not yet due, by channel, account and why (a post's scheduled time, an
    account's 429 or spent quota, a relay's retry), each group with when its first row falls due."""
    rows = conn.execute(
        select(Delivery.channel, Delivery.account, Delivery.last_error, func.min(Delivery.not_before), func.count())
        .where(Delivery.run_id == run_id, Delivery.status == PENDING, Delivery.not_before > utcnow())
        .group_by(Delivery.channel, Delivery.account, Delivery.last_error)
        .order_by(func.min(Delivery.not_before), Delivery.channel)
    ).all()
    return [
        {"channel": c, "account": a, "reason": reason or "", "until": until, "count": int(n)}
        for c, a, reason, until, n in rows
    ]


def bounces(conn: Connection, run_id: int) -> dict[str, Any]:
    """The run's e-mails so far: planned (ledger rows), sent, delivered, bounced, complained and
    suppressed before sending, with the rates of bounces and complaints."""
    mail = total(deliverability(conn, [run_id]))
    # Unsubscribes are counted over the 7 days after the launch: the report shows them.
    counts = ("planned", "emails", *(m for m in COUNTS if m != "unsubscribes"))
    rates = mail.rates()
    return {
        **{k: getattr(mail, k) for k in counts},
        **{f"{k}_rate": rates[f"{k}_rate"] for k in ("hard_bounces", "soft_bounces", "complaints")},
    }


def breaker_note(note: str | None) -> str | None:
    """The run's note when the bounce breaker wrote it (it paused the run), else None."""
    return note if note is not None and note.startswith(NOTE_PREFIX) else None


def run_status(conn: Connection, run: WaveRun) -> dict[str, Any]:
    rows = conn.execute(
        select(Delivery.audience_id, Delivery.language, Delivery.channel, Delivery.status, func.count())
        .where(Delivery.run_id == run.id)
        .group_by(Delivery.audience_id, Delivery.language, Delivery.channel, Delivery.status)
        .order_by(Delivery.audience_id, Delivery.language, Delivery.channel, Delivery.status)
    ).all()
    totals = {str(s): 0 for s in STATUSES}
    breakdown = []
    for audience, language, channel, status, count in rows:
        totals[status] = totals.get(status, 0) + int(count)
        breakdown.append(
            {"audience": audience, "language": language, "channel": channel, "status": status, "count": int(count)}
        )
    return {
        "wave": run.wave_id,
        "campaign": run.campaign_id,
        "campaign_dir": run.campaign_dir,
        "run_id": run.id,
        "state": run.state,
        "note": run.note,
        "content_hash": run.content_hash,
        "launched_by": run.launched_by,
        "launched_at": run.created_at.isoformat(),
        "totals": totals,
        "breakdown": breakdown,
        "failures": _failures(conn, run.id),
        "bounces": bounces(conn, run.id),
        "breaker": breaker_note(run.note) if run.state == PAUSED else None,
        # What waits (a post's scheduled time, a 429, a spent quota), with when it falls due.
        "waiting": [{**group, "until": group["until"].isoformat()} for group in waiting(conn, run.id)],
    }


def all_status(conn: Connection, wave: str | None = None) -> list[dict[str, Any]]:
    query = select(WaveRun).order_by(WaveRun.id)
    if wave is not None:
        query = query.where((WaveRun.wave_id == wave) | (WaveRun.run_key == wave))
    return [run_status(conn, run) for run in Session(bind=conn).scalars(query)]


def settled_so_far(conn: Connection, campaign_id: str, wave_id: str) -> tuple[int, int] | None:
    """(rows settled, rows in all) of the wave's run, for a progress bar; None before its launch."""
    run_id = conn.scalar(
        select(WaveRun.id)
        .where(WaveRun.campaign_id == campaign_id, WaveRun.wave_id == wave_id)
        .order_by(WaveRun.id.desc())
    )
    if run_id is None:
        return None
    counts = dict(
        conn.execute(
            select(Delivery.status, func.count()).where(Delivery.run_id == run_id).group_by(Delivery.status)
        ).all()
    )
    return settled(counts)


def settled(counts: Mapping[str, int]) -> tuple[int, int]:
    """(rows settled, rows in all) from a run's counts by status: settled is neither pending nor
    being sent."""
    everything = sum(counts.values())
    return everything - counts.get(PENDING, 0) - counts.get(SENDING, 0), everything
