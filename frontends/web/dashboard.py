"""The team's dashboard: plan, live status, report, initiatives; and the operator's actions.

Pages read (open on loopback, see ``security``). Actions change state and each one is a POST
guarded by a signed-in account holding the action's role and by a CSRF token; the guard runs
before anything else, so a refused request changes nothing. Each action is done, and recorded
in the audit log, as that account. Actions call the same functions as the command line
(``waves.approval.approve_after_doctor``, ``waves.launch.launch_wave``, ``waves.control``,
``campaign.initiative_requests.review``): the web adds no rules of its own.

Routes that need the loaded campaign (it renders every message) are async: they await it from
the rendering pool, holding no thread, then hand their database work to the request thread
pool, where nothing waits on a render. Pages that need only the campaign's id, time zone,
waves or ambitions (live status, initiatives, pause, resume, cancel) read campaign.yaml alone,
so they answer while a heavy campaign renders.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from fastapi import APIRouter, BackgroundTasks, Depends, Form, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from accounts.roles import Actor
from audiences.consent import describe_counts, suppression_counts
from campaign.bundle import Bundle
from campaign.db import get_engine, session_scope
from campaign.errors import WavecastError
from campaign.initiative_models import PENDING as REQUEST_PENDING
from campaign.initiative_requests import audit_trail, list_requests
from campaign.model import Campaign
from campaign.phrase import Phrase
from campaign.render import translated
from campaign.timing import resolve_starts
from frontends.web.i18n import N_, say, speaking
from frontends.web.pages import (
    FriendlyRoute,
    NotFound,
    campaign_dir,
    campaign_spec,
    current_bundle,
    interface_language,
    page,
)
from frontends.web.security import acting, require, require_reader
from waves.approval import approval_state, approve_after_doctor, require_approval
from waves.control import cancel, find_run, pause
from waves.launch import launch_wave
from waves.models import PAUSED, WaveRun, WaveSchedule
from waves.report import build_report
from waves.resume import resume as resume_run
from waves.reviews import review_as
from waves.status import all_status

log = logging.getLogger(__name__)
router = APIRouter(route_class=FriendlyRoute)
reader = [Depends(require_reader)]


def needs(action: str) -> list[Any]:
    return [Depends(require(action))]


DONE_MESSAGES = {
    "approved": N_("Your approval was recorded."),
    "launched": N_("The wave is being launched; its counts appear below as it sends."),
    "paused": N_("The wave is paused."),
    "resumed": N_("The wave is sending again."),
    "cancelled": N_("The wave is cancelled: what was not sent is skipped."),
    "login": N_("You are signed in."),
    "logout": N_("You are signed out."),
    "everywhere": N_("You are signed out everywhere: every browser must sign in again."),
    "saved": N_("Saved: the message file has your text, and the wave's earlier approvals no longer hold."),
    "saved-committed": N_("Saved and committed to the campaign's git history under your name."),
    "saved-not-committed": N_("Saved, but the git commit failed: the file has your text; commit it by hand."),
    "language": N_("Your language is saved."),
    "moved": N_("The wave was moved: campaign.yaml has its new day, and its earlier approvals no longer hold."),
}


def _after(path: str, done: str) -> RedirectResponse:
    return RedirectResponse(f"{path}?done={done}", status_code=303)


def done_message(request: Request) -> str | None:
    return DONE_MESSAGES.get(request.query_params.get("done", ""))


def _lang(bundle: Bundle, request: Request) -> str:
    wanted = request.query_params.get("lang", "en")
    return wanted if wanted in bundle.spec.campaign.languages else bundle.spec.campaign.languages[0]


def _wave_or_404(spec: Campaign, wave_id: str) -> None:
    if wave_id not in {w.id for w in spec.waves}:
        raise NotFound(Phrase("the campaign has no wave %(wave)s", wave=repr(wave_id)))


# ---------------------------------------------------------------------------- pages


def plan_rows(bundle: Bundle, lang: str) -> list[dict[str, Any]]:
    """Each wave with its local start, position on the timeline, state and approvals."""
    spec = bundle.spec
    starts = resolve_starts(spec)
    first, last = min(starts.values()), max(starts.values())
    span = (last - first).total_seconds() or 1.0
    rows = []
    with session_scope() as session:
        runs = {r.wave_id: r for r in session.scalars(select(WaveRun).where(WaveRun.campaign_id == spec.campaign.id))}
        schedules = {
            s.wave_id: s
            for s in session.scalars(select(WaveSchedule).where(WaveSchedule.campaign_id == spec.campaign.id))
        }
        for wave in spec.waves:
            approval = approval_state(session, bundle, wave.id)
            run, schedule = runs.get(wave.id), schedules.get(wave.id)
            if run is not None:
                state = run.state
            elif schedule is not None:
                state = schedule.state
            else:
                state = "approved" if approval.valid else "awaiting approval"
            start = starts[wave.id]
            rows.append(
                {
                    "id": wave.id,
                    "title": translated(spec, wave.title, lang),
                    "start": start,
                    "position": round((start - first).total_seconds() / span * 100, 2),
                    "state": state,
                    "note": (run.note if run is not None else schedule.note if schedule is not None else None),
                    "approvers": list(approval.approvers),
                    "required": approval.required,
                    "approved": approval.valid,
                    "stale": len(approval.stale),
                    "hash": approval.content_hash[:12],
                    "launched": run is not None,
                    "audiences": list(dict.fromkeys(a for m in wave.messages for a in m.audiences)),
                    "channels": list(dict.fromkeys(c for m in wave.messages for c in m.channels)),
                    "initiatives": [
                        translated(spec, spec.initiative(i).title, lang)
                        for i in wave.initiatives
                        if i in {x.id for x in spec.initiatives}
                    ],
                }
            )
    return rows


@router.get("/plan", dependencies=reader, summary="The plan: waves on a timeline with state and approvals")
async def plan_page(request: Request) -> Response:
    bundle = await current_bundle(request)
    lang = _lang(bundle, request)
    rows = await run_in_threadpool(plan_rows, bundle, lang)
    return page(
        request,
        "plan.html",
        title=N_("Plan"),
        rows=rows,
        bundle=bundle,
        lang=lang,
        timezone=bundle.spec.campaign.timezone,
        done=done_message(request),
    )


def campaign_status(campaign_id: str | None) -> list[dict[str, Any]]:
    """What `wavecast status --json` shows, for this campaign's runs."""
    with get_engine().connect() as conn:
        reports = all_status(conn)
    return [r for r in reports if campaign_id is None or r["campaign"] == campaign_id]


@router.get("/status", dependencies=reader, summary="Live status of launched waves")
def status_page(request: Request) -> Response:
    spec = campaign_spec(request)
    tz = spec.campaign.tz
    runs = [
        {**r, "launched_local": dt.datetime.fromisoformat(r["launched_at"]).astimezone(tz)}
        for r in campaign_status(spec.campaign.id)
    ]
    shape = [[r["run_id"], r["state"], len(r["breakdown"])] for r in runs]  # the script reloads when it changes
    with get_engine().connect() as conn:
        suppressed = describe_counts(suppression_counts(conn))
    return page(
        request,
        "status.html",
        title=N_("Live status"),
        runs=runs,
        shape=shape,
        suppression_line=suppressed,
        done=done_message(request),
    )


@router.get("/api/status", dependencies=reader, summary="Live status as JSON (the page polls it)")
def status_json(request: Request) -> JSONResponse:
    spec = campaign_spec(request)
    return JSONResponse(campaign_status(spec.campaign.id), headers={"Cache-Control": "no-store"})


@router.get("/report", dependencies=reader, summary="The report with its charts")
async def report_page(request: Request, wave: str | None = None) -> Response:
    bundle = await current_bundle(request)
    if wave == "":
        wave = None
    if wave is not None:
        _wave_or_404(bundle.spec, wave)
    return await run_in_threadpool(_report_page, request, bundle, wave)


def _report_page(request: Request, bundle: Bundle, wave: str | None) -> Response:
    # Lazy: matplotlib (~0.5 s) is for this page only; the app starts and serves the rest without it.
    from waves.charts import report_charts

    with get_engine().connect() as conn:
        report = build_report(conn, bundle, wave, _lang(bundle, request))
    with speaking(interface_language(request)):
        charts = report_charts(report, say)
    return page(
        request,
        "report.html",
        title=N_("Report"),
        report=report,
        charts=charts,
        waves=[w.id for w in bundle.spec.waves],
    )


@router.get("/initiatives", dependencies=reader, summary="Initiative publication requests and the review queue")
def initiatives_page(request: Request) -> Response:
    spec = campaign_spec(request)
    requests = list_requests(campaign_id=spec.campaign.id)
    ambitions = {a.id: f"{a.number}. {translated(spec, a.title, 'en')}" for a in spec.ambitions}
    trail = [e for e in audit_trail() if e["request"] in {r.id for r in requests}]
    return page(
        request,
        "initiatives.html",
        title=N_("Initiatives"),
        ambitions=ambitions,
        trail=trail,
        pending=[r for r in requests if r.status == REQUEST_PENDING],
        decided=[r for r in requests if r.status != REQUEST_PENDING],
        done=done_message(request),
    )


# ---------------------------------------------------------------------------- operator actions


@router.post(
    "/waves/{wave_id}/approve", dependencies=needs("wave.approve"), summary="Approve the wave's current content"
)
async def approve_wave(request: Request, wave_id: str, override_doctor: str = Form("")) -> Response:
    bundle = await current_bundle(request)
    _wave_or_404(bundle.spec, wave_id)
    await run_in_threadpool(_approve, bundle, wave_id, acting(request), override_doctor)
    return _after("/plan", "approved")


def _approve(bundle: Bundle, wave_id: str, by: Actor, override: str) -> None:
    """The command line's rule: a failing preflight refuses, naming its checks, unless the form
    gives the reason to go past it."""
    with session_scope() as session:
        approve_after_doctor(
            session,
            bundle,
            wave_id,
            by,
            override or None,
            how_to_override=Phrase("in the form's 'Override the doctor' field"),
        )


def _launch(bundle: Bundle, wave_id: str, by: Actor) -> None:
    try:
        launch_wave(bundle, wave_id, by)
    except WavecastError as exc:
        log.error("launching wave %s from the dashboard failed: %s", wave_id, exc)


@router.post("/waves/{wave_id}/launch", dependencies=needs("wave.launch"), summary="Send an approved wave now")
async def launch_now(request: Request, wave_id: str, background: BackgroundTasks) -> Response:
    bundle = await current_bundle(request)
    _wave_or_404(bundle.spec, wave_id)
    await run_in_threadpool(_require_approval, bundle, wave_id)
    # Launching builds the ledger and, embedded, sends in-process: after the response, so the
    # page can show the counts growing.
    background.add_task(_launch, bundle, wave_id, acting(request))
    return _after("/status", "launched")


def _require_approval(bundle: Bundle, wave_id: str) -> None:
    with session_scope() as session:
        require_approval(session, bundle, wave_id)


def _run_key(request: Request, wave_id: str) -> str:
    """The run's key from campaign.yaml alone: pausing a wave never waits for a render."""
    spec = campaign_spec(request)
    _wave_or_404(spec, wave_id)
    return f"{spec.campaign.id}:{wave_id}"


@router.post("/waves/{wave_id}/pause", dependencies=needs("wave.pause"), summary="Pause a sending wave")
def pause_wave(request: Request, wave_id: str) -> Response:
    pause(_run_key(request, wave_id), acting(request))
    return _after("/status", "paused")


@router.post("/waves/{wave_id}/resume", dependencies=needs("wave.resume"), summary="Resume a paused wave")
def resume_wave(request: Request, wave_id: str, background: BackgroundTasks) -> Response:
    key = _run_key(request, wave_id)
    with get_engine().connect() as conn:
        run = find_run(conn, key)
    if run.state != PAUSED:
        raise WavecastError(
            Phrase(
                "wave %(wave)s is %(state)s; only a paused wave can resume", wave=repr(wave_id), state=Phrase(run.state)
            )
        )
    background.add_task(_resume, key, acting(request))
    return _after("/status", "resumed")


def _resume(key: str, by: Actor) -> None:
    try:
        resume_run(key, by)
    except WavecastError as exc:
        log.error("resuming %s from the dashboard failed: %s", key, exc)


@router.post(
    "/waves/{wave_id}/cancel", dependencies=needs("wave.cancel"), summary="Cancel a wave: what was not sent is skipped"
)
def cancel_wave(request: Request, wave_id: str) -> Response:
    cancel(_run_key(request, wave_id), acting(request))
    return _after("/status", "cancelled")


@router.post(
    "/initiatives/{request_id}/review", dependencies=needs("initiative.review"), summary="Approve or reject a request"
)
def review_request(request: Request, request_id: int, decision: str = Form(""), reason: str = Form("")) -> Response:
    spec = campaign_spec(request)
    if request_id not in {r.id for r in list_requests(campaign_id=spec.campaign.id)}:
        raise NotFound(Phrase("there is no request #%(id)d for this campaign", id=request_id))
    if decision not in ("approve", "reject"):
        raise WavecastError(N_("choose approve or reject"))
    decided = review_as(
        acting(request), request_id, approve=decision == "approve", reason=reason, campaign_dir=campaign_dir(request)
    )
    return page(request, "decided.html", title=N_("Decision recorded"), decided=decided.request, notify=decided.notify)
