"""The timeline: the waves on a calendar, by month or by week, with the send window's closed
days and the blackout days shaded and today marked; a wave not yet launched can be moved to
another day (``campaign.reschedule``: one value of campaign.yaml rewritten, approvals voided).

Moving works without JavaScript (a date field per wave); with it, a wave can be dragged onto a
day, which fills in and sends the same form.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool

from campaign.bundle import Bundle
from campaign.errors import WavecastError
from campaign.model import WEEKDAYS, Campaign
from campaign.phrase import Phrase
from campaign.reschedule import file_hash, move_wave
from frontends.web.audit_trail import recorded_edit
from frontends.web.dashboard import done_message, plan_rows
from frontends.web.i18n import N_
from frontends.web.pages import FriendlyRoute, campaign_dir, current_bundle, page
from frontends.web.security import acting, require, require_reader

router = APIRouter(route_class=FriendlyRoute)
reader = [Depends(require_reader)]
editor = [Depends(require("wave.edit"))]


# The years a page may show: a month's grid and its previous and next links reach a few weeks
# beyond it, which Python's dates cannot do around year 1 and year 9999.
FIRST_YEAR, LAST_YEAR = 2, 9998


class BadDay(WavecastError):
    http_status = 400
    title = N_("Not a day")


@dataclass
class Day:
    date: dt.date
    in_month: bool
    today: bool
    blackout: str | None  # the holiday's name
    closed: bool  # not a day of the send window
    waves: list[dict[str, Any]] = field(default_factory=list)


def _day_of(text: str | None, name: str, *, month: bool = False) -> dt.date | None:
    """The query's date (YYYY-MM-DD; a month as YYYY-MM, its first day), or None when not given."""
    if not text:
        return None
    try:
        day = dt.date.fromisoformat(f"{text}-01" if month else text)
    except ValueError:
        wrong = (
            Phrase("%(name)s=%(text)s is not a month: give it as YYYY-MM", name=name, text=repr(text))
            if month
            else Phrase("%(name)s=%(text)s is not a date: give it as YYYY-MM-DD", name=name, text=repr(text))
        )
        raise BadDay(wrong) from None
    if not FIRST_YEAR <= day.year <= LAST_YEAR:  # the grid and the links around it must fit the calendar
        raise BadDay(
            Phrase(
                "%(name)s=%(text)s is outside the calendar: give a year from %(first)s to %(last)s",
                name=name,
                text=repr(text),
                first=str(FIRST_YEAR),
                last=str(LAST_YEAR),
            )
        )
    return day


def days(spec: Campaign, first: dt.date, last: dt.date, today: dt.date, rows: list[dict[str, Any]]) -> list[Day]:
    """Every day from `first` to `last`, with what shades it and the waves that start on it."""
    holidays = {b.date: b.name for b in spec.campaign.blackout_dates}
    open_days = set(spec.campaign.send_window.days)
    by_day: dict[dt.date, list[dict[str, Any]]] = {}
    for row in rows:
        by_day.setdefault(row["start"].date(), []).append(row)
    span = (last - first).days + 1
    return [
        Day(
            date=d,
            in_month=True,
            today=d == today,
            blackout=holidays.get(d),
            closed=WEEKDAYS[d.weekday()] not in open_days,
            waves=by_day.get(d, []),
        )
        for d in (first + dt.timedelta(days=i) for i in range(span))
    ]


def month_weeks(spec: Campaign, month: dt.date, today: dt.date, rows: list[dict[str, Any]]) -> list[list[Day]]:
    """The month's weeks, Monday first, with the days of the neighbouring months to fill them."""
    weeks = calendar.Calendar(firstweekday=0).monthdatescalendar(month.year, month.month)
    flat = days(spec, weeks[0][0], weeks[-1][-1], today, rows)
    for d in flat:
        d.in_month = d.date.month == month.month
    return [flat[i : i + 7] for i in range(0, len(flat), 7)]


def _state(row: dict[str, Any]) -> str:
    return "draft" if row["state"] == "awaiting approval" else str(row["state"])


def view(bundle: Bundle, month: dt.date | None, week: dt.date | None) -> dict[str, Any]:
    spec = bundle.spec
    rows = plan_rows(bundle, "en")
    for row in rows:
        row["shown_state"] = _state(row)
        row["movable"] = not row["launched"] and row["state"] in ("awaiting approval", "approved")
    today = dt.datetime.now(spec.campaign.tz).date()
    if week is not None:
        monday = week - dt.timedelta(days=week.weekday())
        return {
            "view": "week",
            "days": days(spec, monday, monday + dt.timedelta(days=6), today, rows),
            "previous": f"?week={monday - dt.timedelta(days=7)}",
            "next": f"?week={monday + dt.timedelta(days=7)}",
            "rows": rows,
        }
    if month is None:
        ahead = [r["start"].date() for r in rows if r["start"].date() >= today]
        month = (ahead[0] if ahead else rows[0]["start"].date() if rows else today).replace(day=1)
    return {
        "view": "month",
        "weeks": month_weeks(spec, month, today, rows),
        "previous": f"?month={(month - dt.timedelta(days=1)):%Y-%m}",
        "next": f"?month={(month + dt.timedelta(days=32)):%Y-%m}",
        "month": month,
        "rows": rows,
    }


@router.get("/timeline", dependencies=reader, summary="The waves on a calendar by month or week; move a draft wave")
async def timeline(request: Request, month: str | None = None, week: str | None = None) -> Response:
    bundle = await current_bundle(request)
    shown = await run_in_threadpool(view, bundle, _day_of(month, "month", month=True), _day_of(week, "week"))
    root = campaign_dir(request)
    return page(
        request,
        "timeline.html",
        title=N_("Timeline"),
        bundle=bundle,
        window=bundle.spec.campaign.send_window,
        timezone=bundle.spec.campaign.timezone,
        seen_hash=file_hash(root) if root is not None else "",
        done=done_message(request),
        **shown,
    )


@router.post("/waves/{wave_id}/move", dependencies=editor, summary="Move a wave not yet launched to another day")
async def move(request: Request, wave_id: str, day: str = Form(""), seen_hash: str = Form("")) -> Response:
    when = _day_of(day, "day")
    if when is None:
        raise BadDay(N_("give the day to move the wave to, as YYYY-MM-DD"))
    bundle = await current_bundle(request)
    rows = {r["id"]: r for r in await run_in_threadpool(plan_rows, bundle, "en")}
    if wave_id in rows and rows[wave_id]["launched"]:
        raise BadDay(Phrase("wave %(wave)s was launched: it can no longer move", wave=repr(wave_id)))
    moved = await run_in_threadpool(move_wave, bundle.root, wave_id, when, seen_hash or None)
    await run_in_threadpool(
        recorded_edit,
        acting(request),
        bundle.spec,
        [wave_id],
        {"start": moved.before.isoformat(), "campaign.yaml line": moved.line},
        {"start": moved.after.isoformat()},
    )
    return RedirectResponse(f"/timeline?month={moved.after:%Y-%m}&done=moved", status_code=303)
