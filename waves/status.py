"""Live status of wave runs: counts per audience × language × channel × status, from the ledger."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, func, select
from sqlalchemy.orm import Session

from waves.models import STATUSES, Delivery, SocialPost, WaveRun


def run_status(conn: Connection, run: WaveRun) -> dict[str, Any]:
    rows = conn.execute(
        select(Delivery.audience_id, Delivery.language, Delivery.channel, Delivery.status, func.count())
        .where(Delivery.run_id == run.id)
        .group_by(Delivery.audience_id, Delivery.language, Delivery.channel, Delivery.status)
        .order_by(Delivery.audience_id, Delivery.language, Delivery.channel, Delivery.status)
    ).all()
    totals = dict.fromkeys(STATUSES, 0)
    breakdown = []
    for audience, language, channel, status, count in rows:
        totals[status] = totals.get(status, 0) + int(count)
        breakdown.append(
            {"audience": audience, "language": language, "channel": channel, "status": status, "count": int(count)}
        )
    social = conn.execute(
        select(SocialPost.platform, SocialPost.status, func.count())
        .where(SocialPost.run_id == run.id)
        .group_by(SocialPost.platform, SocialPost.status)
        .order_by(SocialPost.platform, SocialPost.status)
    ).all()
    return {
        "wave": run.wave_id,
        "campaign": run.campaign_id,
        "run_id": run.id,
        "state": run.state,
        "note": run.note,
        "content_hash": run.content_hash,
        "launched_by": run.launched_by,
        "launched_at": run.created_at.isoformat(),
        "totals": totals,
        "breakdown": breakdown,
        "social": [{"platform": p, "status": s, "count": int(n)} for p, s, n in social],
    }


def all_status(conn: Connection, wave: str | None = None) -> list[dict[str, Any]]:
    query = select(WaveRun).order_by(WaveRun.id)
    if wave is not None:
        query = query.where((WaveRun.wave_id == wave) | (WaveRun.run_key == wave))
    return [run_status(conn, run) for run in Session(bind=conn).scalars(query)]
