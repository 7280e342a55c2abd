"""The dashboard's home: one screen for Monday morning (``frontends/web/overview.py`` gathers it),
and the preflight checks behind its problems (`/doctor`, what `wavecast doctor` prints).

`?as_of=YYYY-MM-DD` reads the campaign as if that day had just begun, like `--as-of` on the
command line: the example campaign's waves lie in 2023.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from starlette.concurrency import run_in_threadpool

from campaign.as_of import parse_as_of
from campaign.bundle import Bundle
from campaign.db import get_engine
from campaign.errors import WavecastError
from campaign.phrase import Phrase
from campaign.render import translated
from campaign.settings import get_settings
from campaign.timing import resolve_starts
from frontends.web import overview
from frontends.web.dashboard import done_message, plan_rows
from frontends.web.i18n import N_
from frontends.web.pages import FriendlyRoute, current_bundle, page
from frontends.web.security import require_reader
from waves import doctor

router = APIRouter(route_class=FriendlyRoute)
reader = [Depends(require_reader)]

CHECKS_SECONDS = 300  # the preflight asks DNS when a relay is set: once per five minutes is enough
_checks: dict[str, tuple[float, list[doctor.Check]]] = {}
_checks_lock = threading.Lock()


class BadDate(WavecastError):
    http_status = 400
    title = N_("Not a date")


def preflight(bundle: Bundle) -> list[doctor.Check]:
    """`wavecast doctor`'s checks for this campaign's content, kept for CHECKS_SECONDS."""
    key = bundle.content_hash()
    with _checks_lock:
        held = _checks.get(key)
        if held is not None and time.monotonic() - held[0] < CHECKS_SECONDS:
            return held[1]
    checks = doctor.run(bundle, get_settings())
    with _checks_lock:
        _checks[key] = (time.monotonic(), checks)
    return checks


def _now(bundle: Bundle, as_of: str | None) -> tuple[dt.datetime, bool]:
    tz = bundle.spec.campaign.tz
    try:
        day = parse_as_of(as_of)
    except WavecastError:
        raise BadDate(
            Phrase("as_of=%(text)s is not a date: give it as YYYY-MM-DD, e.g. 2023-06-12", text=repr(as_of))
        ) from None
    if day is None:
        return dt.datetime.now(tz), False
    return dt.datetime.combine(day, dt.time(), tzinfo=tz), True


def gather(bundle: Bundle, lang: str, as_of: str | None) -> overview.Overview:
    now, chosen = _now(bundle, as_of)
    seen = overview.Overview(now=now, as_of=chosen)
    seen.next_wave, seen.last_started = overview.waves_ahead(bundle, now, lang)
    seen.first_day = min(resolve_starts(bundle.spec).values()).date()
    seen.awaiting = overview.awaiting_approval(plan_rows(bundle, lang), now)
    checks = preflight(bundle)
    with get_engine().connect() as conn:
        runs = overview.campaign_runs(conn, bundle.spec.campaign.id)
        seen.sending = overview.sending_now(runs)
        seen.last_run, seen.results = overview.last_results(conn, bundle, runs)
        seen.problems = overview.problems(conn, bundle, seen.sending, checks, now.date())
    return seen


def _lang(bundle: Bundle, request: Request) -> str:
    wanted = request.query_params.get("lang", "en")
    return wanted if wanted in bundle.spec.campaign.languages else bundle.spec.campaign.languages[0]


@router.get("/", dependencies=reader, summary="Dashboard home: next wave, approvals, sending, results, problems")
async def home(request: Request, as_of: str | None = None) -> Response:
    bundle = await current_bundle(request)
    lang = _lang(bundle, request)
    seen = await run_in_threadpool(gather, bundle, lang, as_of)
    context: dict[str, Any] = {
        "title": N_("Dashboard"),
        "bundle": bundle,
        "seen": seen,
        "name": translated(bundle.spec, bundle.spec.campaign.name, lang),
        "timezone": bundle.spec.campaign.timezone,
        "done": done_message(request),
    }
    return page(request, "home.html", **context)


@router.get("/doctor", dependencies=reader, summary="The preflight checks, as `wavecast doctor` shows them")
async def doctor_page(request: Request) -> Response:
    bundle = await current_bundle(request)
    checks = await run_in_threadpool(preflight, bundle)
    return page(request, "doctor.html", title=N_("Preflight checks"), checks=checks)
