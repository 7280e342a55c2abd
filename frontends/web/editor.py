"""Editing a message in the browser, with its newsletter and posts rendered beside it.

- `GET /edit/{wave}/{audience}/{lang}`: the message file (front matter and Markdown with the
  campaign's fields) and what it renders to, at desktop and phone width.
- `POST` the same address: "Preview" renders the draft; "Save" writes it (``campaign.message_edit``:
  checked on a scratch copy, written atomically, refused when someone saved meanwhile, with
  their change shown and the draft kept in the editor).
- `POST /api/edit/...`: the same checks and render as the person types (the page's script
  calls it); without JavaScript the Preview button does the same.
- `GET /translations/{wave}/{audience}`: the message in every language side by side, a missing
  one marked, and one marked stale when the first language's file changed after it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Body, Depends, Form, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool

from campaign.errors import InvalidInput, Problem
from campaign.message_edit import DraftRefused, SavedMeanwhile, checked_draft, message_name, named, save_message
from campaign.model import Campaign
from campaign.newsletter import NewsletterSegment
from campaign.segment import NoSuchSegment, render_segment
from frontends.web.audit_trail import recorded_edit, waves_using
from frontends.web.dashboard import done_message
from frontends.web.i18n import N_
from frontends.web.pages import FriendlyRoute, NotFound, campaign_dir, campaign_spec, page
from frontends.web.preview import FRAME_HEADERS, served_here
from frontends.web.security import acting, require, require_reader
from waves.assembly import assembled

router = APIRouter(route_class=FriendlyRoute)
reader = [Depends(require_reader)]
editor = [Depends(require("wave.edit"))]
DRAFTS_KEPT = 64  # rendered draft newsletters, for the preview frames (newest kept)
_drafts: OrderedDict[str, str] = OrderedDict()


@dataclass
class Rendered:
    """What a text renders to for one audience and language: the problems, newsletter, posts."""

    problems: list[Problem] = field(default_factory=list)
    subject: str | None = None
    frame: str | None = None  # the URL of the rendered newsletter
    posts: list[dict[str, str]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "problems": [
                {"line": p.line, "column": p.column, "message": p.message, "severity": p.severity, "file": p.file}
                for p in self.problems
            ],
            "subject": self.subject,
            "frame": self.frame,
            "posts": self.posts,
        }


def _keep(html: str) -> str:
    key = hashlib.sha256(html.encode("utf-8")).hexdigest()[:32]
    _drafts[key] = html
    _drafts.move_to_end(key)
    while len(_drafts) > DRAFTS_KEPT:
        _drafts.popitem(last=False)
    return f"/edit/draft/{key}"


def render_draft(spec: Campaign, root: Path, wave: str, audience: str, lang: str, text: str | None) -> Rendered:
    """The draft (or, with None, the saved file) checked and rendered in every channel of its message."""
    name = message_name(spec, wave, audience, lang)
    if text is None:
        shown = _render(Rendered(), root, spec, wave, audience, lang)
    else:
        try:
            with checked_draft(root, name, text) as (copy, problems):
                shown = _render(Rendered(problems=problems), copy, spec, wave, audience, lang)
        except DraftRefused as exc:
            return Rendered(problems=exc.problems)
    shown.problems = [named(p, name) for p in shown.problems]
    return shown


def _render(shown: Rendered, root: Path, spec: Campaign, wave: str, audience: str, lang: str) -> Rendered:
    """`shown` with the newsletter and posts the campaign at `root` renders for this segment."""
    try:
        campaign = assembled(root, render=False)
    except InvalidInput as exc:
        shown.problems = shown.problems or list(exc.problems)
        return shown
    message = next(m for m in spec.wave(wave).messages if audience in m.audiences)
    for channel in message.channels:
        try:
            output = render_segment(campaign, wave, audience, lang, channel)
        except (InvalidInput, NoSuchSegment) as exc:
            shown.problems.extend(p for p in getattr(exc, "problems", []) if p not in shown.problems)
            continue
        if isinstance(output, NewsletterSegment):
            shown.subject, shown.frame = output.subject, _keep(output.html)
        else:
            shown.posts.append({"channel": channel, "text": output.text})
    return shown


def _editor(
    request: Request,
    spec: Campaign,
    wave: str,
    audience: str,
    lang: str,
    text: str,
    started_from: str,
    shown: Rendered,
    *,
    status: int = 200,
    conflict: str | None = None,
) -> Response:
    name = message_name(spec, wave, audience, lang)
    return page(
        request,
        "editor.html",
        status=status,
        title=N_("Edit %(name)s"),
        title_fields={"name": name},
        name=name,
        wave=wave,
        audience=audience,
        lang=lang,
        languages=spec.campaign.languages,
        text=text,
        started_from=started_from,
        shown=shown,
        conflict=conflict,
        done=done_message(request),
    )


def _read(root: Path, name: str) -> str:
    path = root / name
    return path.read_text(encoding="utf-8") if path.exists() else ""


@router.get("/edit/{wave}/{audience}/{lang}", dependencies=reader, summary="Edit a message, its render beside it")
async def edit_page(request: Request, wave: str, audience: str, lang: str) -> Response:
    # campaign.yaml alone: a message file that is missing or broken can be opened and mended here.
    spec, root = campaign_spec(request), _root(request)
    text = _read(root, message_name(spec, wave, audience, lang))
    shown = await run_in_threadpool(render_draft, spec, root, wave, audience, lang, None)
    return _editor(request, spec, wave, audience, lang, text, text, shown)


@router.post("/edit/{wave}/{audience}/{lang}", dependencies=editor, summary="Preview or save a message draft")
async def edit_post(
    request: Request,
    wave: str,
    audience: str,
    lang: str,
    text: str = Form(""),
    started_from: str = Form(""),
    action: str = Form("preview"),
) -> Response:
    spec, root = campaign_spec(request), _root(request)
    name = message_name(spec, wave, audience, lang)
    text = text.replace("\r\n", "\n")
    started_from = started_from.replace("\r\n", "\n")
    if action == "save":
        me = acting(request)
        try:
            saved = await run_in_threadpool(save_message, root, name, text, started_from, f"{me.email} <{me.email}>")
        except SavedMeanwhile as exc:
            shown = await run_in_threadpool(render_draft, spec, root, wave, audience, lang, text)
            current = _read(root, name)
            return _editor(request, spec, wave, audience, lang, text, current, shown, status=409, conflict=exc.diff)
        except DraftRefused as exc:
            shown = Rendered(problems=exc.problems)
            return _editor(request, spec, wave, audience, lang, text, started_from, shown, status=422)
        await run_in_threadpool(
            recorded_edit, me, spec, waves_using(spec, name), {"file": name}, {"file": name, "diff": saved.diff}
        )
        done = "saved-not-committed" if saved.not_committed else "saved-committed" if saved.committed else "saved"
        return RedirectResponse(f"/edit/{wave}/{audience}/{lang}?done={done}", status_code=303)
    shown = await run_in_threadpool(render_draft, spec, root, wave, audience, lang, text)
    return _editor(request, spec, wave, audience, lang, text, started_from, shown)


@router.post(
    "/api/edit/{wave}/{audience}/{lang}", dependencies=editor, summary="Check and render a draft as it is typed"
)
async def edit_api(
    request: Request, wave: str, audience: str, lang: str, text: str = Body(..., embed=True)
) -> Response:
    spec, root = campaign_spec(request), _root(request)
    shown = await run_in_threadpool(render_draft, spec, root, wave, audience, lang, text.replace("\r\n", "\n"))
    return JSONResponse(shown.as_json())


@router.get(
    "/edit/draft/{key}", dependencies=reader, summary="A rendered draft newsletter", response_class=HTMLResponse
)
def draft_frame(key: str) -> Response:
    html = _drafts.get(key)
    if html is None:
        raise NotFound(N_("this draft's render is no longer kept: preview the draft again"))
    return HTMLResponse(served_here(html), headers=FRAME_HEADERS)


@dataclass
class Translation:
    lang: str
    name: str
    text: str | None  # None: the file is missing
    stale: bool = False
    changed: str = ""


def translations(spec: Campaign, root: Path, wave: str, audience: str) -> list[Translation]:
    """One message in every language; stale when the first language's file changed after it."""
    found = []
    for lang in spec.campaign.languages:
        name = message_name(spec, wave, audience, lang)
        path = root / name
        if not path.exists():
            found.append(Translation(lang, name, None))
            continue
        changed = dt.datetime.fromtimestamp(path.stat().st_mtime, spec.campaign.tz)
        found.append(Translation(lang, name, path.read_text(encoding="utf-8"), changed=f"{changed:%Y-%m-%d %H:%M}"))
    source = found[0]
    for other in found[1:]:
        other.stale = (
            other.text is not None
            and source.text is not None
            and _mtime(root / source.name) > _mtime(root / other.name)
        )
    return found


def _root(request: Request) -> Path:
    root = campaign_dir(request)
    if root is None:
        raise NotFound(N_("no campaign is loaded: start the app with `wavecast serve DIR`"))
    return root


def _mtime(path: Path) -> float:
    return path.stat().st_mtime


@router.get("/translations/{wave}/{audience}", dependencies=reader, summary="A message in every language side by side")
async def translations_page(request: Request, wave: str, audience: str) -> Response:
    spec = campaign_spec(request)
    shown = await run_in_threadpool(translations, spec, _root(request), wave, audience)
    return page(
        request,
        "translations.html",
        title=N_("Translations of %(wave)s for %(audience)s"),
        title_fields={"wave": wave, "audience": audience},
        wave=wave,
        audience=audience,
        source=spec.campaign.languages[0],
        rows=shown,
    )
