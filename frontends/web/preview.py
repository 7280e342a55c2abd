"""Preview in the browser: every message of a wave, per audience and language, as readers see it.

Read-only. The campaign is reloaded whenever one of its files changes (``waves.bundles``
compares sizes and modification times), so an edit shows on the next page load without a
restart. A template that fails to render shows as an error panel naming its file and line,
in the place of the message; the page itself never fails for it.

A channel whose messages are e-mails in the shared layout (the newsletter: its declaration's
`uses_layout`) is shown in an iframe (one route returns each one's HTML) at a desktop width
(640 px) or a phone width (375 px); every other channel's messages are shown as cards. The
frames are sandboxed without scripts and, like every page here, may load nothing from another
site.
"""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import HTMLResponse

from campaign.bundle import Bundle, load_spec
from campaign.channel_ids import channels, declaration
from campaign.errors import InvalidInput, Problem, WavecastError
from campaign.phrase import Phrase
from campaign.render import translated
from campaign.segment import Assets, NoSuchSegment, message_for, render_segment
from campaign.settings import get_settings
from campaign.timing import resolve_starts
from frontends.web import rendering
from frontends.web.error_pages import public_error
from frontends.web.i18n import N_
from frontends.web.pages import FriendlyRoute, NotFound, campaign_dir, current_bundle, error_page, page
from frontends.web.security import require_reader

router = APIRouter(route_class=FriendlyRoute)
VIEWS = {N_("desktop"): 640, N_("phone"): 375}


@dataclass
class Cell:
    """One audience × language of the matrix: its newsletter subject, or what went wrong."""

    subject: str | None = None
    channels: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


@dataclass
class Section:
    """One audience's messages for the chosen wave and language."""

    audience: str
    title: str
    frames: list[str] = field(default_factory=list)  # the channels shown as an e-mail, in a frame
    posts: list[Any] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)


def _channels(bundle: Bundle, wave_id: str, audience_id: str) -> list[str]:
    return [
        c
        for c in channels()
        if c in bundle.spec.channels and message_for(bundle.spec, wave_id, audience_id, c) is not None
    ]


def _framed(channel: str) -> bool:
    """True for a channel whose messages are e-mails in the shared layout (the newsletter)."""
    found = declaration(channel)
    return found is not None and found.uses_layout


def _audiences(bundle: Bundle, wave_id: str) -> list[str]:
    """The audiences a wave addresses, in the campaign's order."""
    wanted = {a for m in bundle.spec.wave(wave_id).messages for a in m.audiences}
    return [a.id for a in bundle.spec.audiences if a.id in wanted]


def _render(bundle: Bundle, wave_id: str, audience_id: str, lang: str, channel: str) -> tuple[Any, list[Problem]]:
    """(output, problems): the output is None when rendering failed."""
    try:
        output = render_segment(bundle, wave_id, audience_id, lang, channel)
    except InvalidInput as exc:
        return None, list(exc.problems)
    return output, list(getattr(output, "problems", ()))


def matrix(bundle: Bundle, wave_id: str) -> dict[str, dict[str, Cell]]:
    """Audience × language for one wave: the newsletter's subject, the channels, any problem."""
    cells: dict[str, dict[str, Cell]] = {}
    for audience in _audiences(bundle, wave_id):
        channels = _channels(bundle, wave_id, audience)
        row = cells[audience] = {}
        for lang in bundle.spec.campaign.languages:
            cell = row[lang] = Cell(channels=channels)
            for channel in channels:
                output, problems = _render(bundle, wave_id, audience, lang, channel)
                cell.problems.extend(p for p in problems if p.severity == "error")
                if _framed(channel) and output is not None and cell.subject is None:
                    cell.subject = output.subject
    return cells


def sections(bundle: Bundle, wave_id: str, lang: str, only: str | None) -> list[Section]:
    found = []
    for audience in _audiences(bundle, wave_id):
        if only is not None and audience != only:
            continue
        channels = _channels(bundle, wave_id, audience)
        section = Section(audience, translated(bundle.spec, bundle.spec.audience(audience).title, lang))
        for channel in channels:
            output, problems = _render(bundle, wave_id, audience, lang, channel)
            section.problems.extend(p for p in problems if p.severity == "error")
            section.warnings.extend(p for p in problems if p.severity != "error")
            if output is None:
                continue
            if _framed(channel):
                section.frames.append(channel)
            else:
                section.posts.append(output)
        found.append(section)
    return found


def _choice(value: str | None, allowed: list[str]) -> str:
    return value if value in allowed else allowed[0]


@router.get("/preview", dependencies=[Depends(require_reader)], summary="Preview every message of a wave")
async def preview_page(
    request: Request,
    wave: str | None = None,
    lang: str | None = None,
    audience: str | None = None,
    view: str | None = None,
) -> Response:
    # Loading and rendering run in the rendering pool, with a time limit (frontends.web.rendering).
    try:
        bundle = await current_bundle(request)
    except InvalidInput as exc:
        # The campaign does not load: the page still works and says what to fix.
        return page(request, "preview.html", title=N_("Preview"), problems=list(exc.problems), bundle=None)
    return await rendering.run(_preview_page, request, bundle, wave, lang, audience, view)


def _preview_page(
    request: Request, bundle: Bundle, wave: str | None, lang: str | None, audience: str | None, view: str | None
) -> Response:
    spec = bundle.spec
    waves = [w.id for w in spec.waves]
    wave_id = _choice(wave, waves)
    language = _choice(lang, list(spec.campaign.languages))
    audiences = _audiences(bundle, wave_id)
    only = audience if audience in audiences else None
    shown = _choice(view, list(VIEWS))
    start = resolve_starts(spec)[wave_id]
    return page(
        request,
        "preview.html",
        title=N_("Preview"),
        bundle=bundle,
        problems=[],
        waves=[(w.id, translated(spec, w.title, language)) for w in spec.waves],
        languages=list(spec.campaign.languages),
        wave=wave_id,
        lang=language,
        audience=only,
        view=shown,
        width=VIEWS[shown],
        views=VIEWS,
        start=start,
        matrix=matrix(bundle, wave_id),
        sections=sections(bundle, wave_id, language, only),
        audience_titles={a: translated(spec, spec.audience(a).title, language) for a in audiences},
    )


def served_here(html: str) -> str:
    """The newsletter with its images loaded from this app, on whatever host and port it is
    served from: e-mails name them under WAVECAST_BASE_URL, which may be another address."""
    base = get_settings().base_url.rstrip("/")
    return html.replace(f'src="{base}/assets/', 'src="/assets/')


FRAME_HEADERS = {
    # The newsletter runs no script and loads nothing from elsewhere; only this app may frame it.
    "Content-Security-Policy": "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; "
    "frame-ancestors 'self'; base-uri 'none'; form-action 'none'",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
}


@router.get(
    "/preview/{channel}/{wave_id}/{audience_id}/{lang}",
    dependencies=[Depends(require_reader)],
    summary="One newsletter's HTML, as a reader's mail program shows it",
    response_class=HTMLResponse,
)
async def newsletter_frame(request: Request, channel: str, wave_id: str, audience_id: str, lang: str) -> Response:
    if not _framed(channel):
        raise NotFound(Phrase("%(channel)s is not a channel shown as an e-mail", channel=repr(channel)))
    try:
        bundle = await current_bundle(request)
        output = await rendering.run(render_segment, bundle, wave_id, audience_id, lang, channel)
    except NoSuchSegment as exc:
        raise NotFound(str(exc)) from None
    except InvalidInput as exc:
        return error_page(
            request,
            422,
            N_("This newsletter does not render"),
            N_("Fix the file named below and reload."),
            exc.problems,
        )
    html = getattr(output, "html", "")  # a channel in the e-mail layout gives a NewsletterSegment
    return HTMLResponse(served_here(html), headers=FRAME_HEADERS)


@router.get("/assets/{campaign_id}/{path:path}", summary="An image of the campaign, as e-mails link it")
def asset(request: Request, campaign_id: str, path: str) -> Response:
    """Public (e-mails load their images from here): only image files inside the campaign directory.

    Every failure gets the same small page in the visitor's language: a stranger learns nothing
    of the campaign's files or problems. The images are served while the messages have errors,
    as long as campaign.yaml names the campaign.
    """
    assets = _assets(request)
    data = None if assets is None or campaign_id != assets.campaign_id else assets.read(path)
    if data is None:
        return public_error(request, 404)
    media = mimetypes.guess_type(PurePosixPath(path).name)[0] or "application/octet-stream"
    return Response(
        data, media_type=media, headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "public, max-age=300"}
    )


_KNOWN_IDS: dict[str, str] = {}  # campaign directory -> the id its campaign.yaml last gave


def _assets(request: Request) -> Assets | None:
    """The campaign's images, or None when no campaign id is known.

    Only campaign.yaml is read, never the messages: rendering must not stand between an
    e-mail and its images. While campaign.yaml is broken (mid-edit), the id it last had holds.
    """
    root = campaign_dir(request)
    if root is None:
        return None
    try:
        campaign_id = _KNOWN_IDS[str(root)] = load_spec(root)[0].campaign.id
    except (WavecastError, OSError):
        if str(root) not in _KNOWN_IDS:
            return None
        campaign_id = _KNOWN_IDS[str(root)]
    try:
        return Assets.at(root, campaign_id, get_settings().base_url)
    except (WavecastError, OSError):
        return None
