"""The preference centre: ``/u/{token}/preferences``, linked from every newsletter's footer.

The token is the footer's signed unsubscribe token (it names the contact, never the address).
The reader can change their language and interests, pause mail until a date, unsubscribe from
this campaign or from everything, download what we hold as JSON, and erase it all (after a
confirmation step). Every action says its scope; the page speaks the register the footer's
link carries (``?register=je``), branded from campaign.yaml. No script: plain forms.

A forged or expired token gets 400, an erased person's token 404; neither changes anything.
"""

from __future__ import annotations

import datetime as dt
import html
import json

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse
from sqlalchemy import select
from starlette.formparsers import MultiPartException
from starlette.requests import ClientDisconnect

from audiences.models import contacts
from audiences.preferences import CAMPAIGN, EVERYTHING, interests_of, left_campaign, unsubscribe, update_preferences
from audiences.tokens import InvalidToken, contact_for_token
from campaign.db import get_engine
from campaign.errors import WavecastError
from campaign.model import Campaign
from campaign.people_strings import campaign_register, campaign_texts
from frontends.web.accept_language import campaign_language
from frontends.web.error_pages import public_error
from frontends.web.pages import campaign_spec
from frontends.web.people_page import HEADERS, document, interest_boxes, language_select
from waves import personal_data

router = APIRouter()
MAX_PAUSE_DAYS = 2 * 366


class _Reader:
    """The person a token names, and how to speak to them."""

    def __init__(
        self,
        spec: Campaign,
        contact_id: int,
        email: str,
        lang: str,
        register: str,
        paused: dt.date | None,
        left_all: bool = False,
    ):
        self.spec = spec
        self.left_all = left_all
        self.contact_id = contact_id
        self.email = email
        self.lang = lang
        self.register = register
        self.paused = paused
        self.texts = campaign_texts(spec, lang, register)


def _reader(request: Request, token: str, chosen: str | None = None) -> _Reader | Response:
    try:
        spec = campaign_spec(request)
    except (WavecastError, OSError):
        return public_error(request, 404)
    try:
        contact_id = contact_for_token(token)
    except InvalidToken:
        return public_error(request, 400)
    with get_engine().connect() as conn:
        row = conn.execute(
            select(contacts.c.email, contacts.c.language, contacts.c.paused_until, contacts.c.unsubscribed_at).where(
                contacts.c.id == contact_id
            )
        ).first()
    if row is None:
        return public_error(request, 404)
    langs = spec.campaign.languages
    asked = chosen or request.query_params.get("lang")
    browser = campaign_language(request.headers.get("accept-language"), langs)
    lang = asked if asked in langs else row.language if row.language in langs else browser
    # The footer's link names the register when it is not the campaign's (see campaign.newsletter).
    register = request.query_params.get("register", "") or campaign_register(spec, lang)
    return _Reader(spec, contact_id, row.email, lang, register, row.paused_until, row.unsubscribed_at is not None)


def _query(reader: _Reader) -> str:
    return f"?lang={reader.lang}" + (f"&amp;register={html.escape(reader.register)}" if reader.register else "")


def _action_form(path: str, reader: _Reader, title: str, text: str, button: str, quiet: bool = False) -> str:
    e = html.escape
    css = ' class="quiet"' if quiet else ""
    return (
        f"<section><h2>{e(title)}</h2><p>{e(text)}</p>"
        f'<form method="post" action="{e(path)}{_query(reader)}"><button type="submit"{css}>{e(button)}</button></form>'
        "</section>"
    )


def _page(reader: _Reader, token: str, note: str = "", status: int = 200) -> Response:
    t, e, spec = reader.texts, html.escape, reader.spec
    with get_engine().connect() as conn:
        chosen = set(interests_of(conn, reader.contact_id, spec.campaign.id))
        left = left_campaign(conn, reader.contact_id, spec.campaign.id)
    paused = reader.paused.isoformat() if reader.paused else ""
    base = f"/u/{token}"
    shown = f'<p class="note" role="status">{e(note)}</p>' if note else ""
    if reader.paused and reader.paused > dt.date.today():
        shown += f'<p class="note">{e(t["paused_note"].replace("{date}", reader.paused.isoformat()))}</p>'
    if reader.left_all:
        shown += f'<p class="note">{e(t["left_all"])}</p>'
    elif left:
        shown += f'<p class="note">{e(t["left_campaign"])}</p>'
    body = (
        f"{shown}<p>{e(t['preferences_intro'])}</p>"
        f'<form method="post" action="{base}/preferences{_query(reader)}">'
        f"{language_select(spec, reader.lang, t['language_label'])}"
        f"{interest_boxes(spec, reader.lang, t['interests_legend'], chosen)}"
        f'<label for="paused_until">{e(t["pause_label"])}</label>'
        f'<input id="paused_until" name="paused_until" type="date" value="{paused}">'
        f'<button type="submit">{e(t["save_button"])}</button></form>'
    )
    if not left:
        body += _action_form(
            f"{base}/leave", reader, t["leave_campaign_title"], t["leave_campaign_text"], t["leave_campaign_button"]
        )
    body += _action_form(f"{base}/leave-all", reader, t["leave_all_title"], t["leave_all_text"], t["leave_all_button"])
    body += (
        f"<section><h2>{e(t['data_title'])}</h2><p>{e(t['data_text'])}</p>"
        f'<p><a href="{base}/data.json">{e(t["data_button"])}</a></p></section>'
    )
    body += (
        f"<section><h2>{e(t['erase_title'])}</h2><p>{e(t['erase_text'])}</p>"
        f'<p><a href="{base}/erase{_query(reader)}">{e(t["erase_button"])}</a></p></section>'
    )
    return document(spec, reader.lang, t["preferences_title"], body, t, status=status)


def _message(reader: _Reader, title: str, text: str, token: str | None = None) -> Response:
    e = html.escape
    back = f'<p><a href="/u/{token}/preferences{_query(reader)}">{e(reader.texts["back"])}</a></p>' if token else ""
    return document(reader.spec, reader.lang, title, f"<p>{e(text)}</p>{back}", reader.texts)


@router.get("/u/{token}/preferences", response_class=HTMLResponse, include_in_schema=False)
def preferences_page(request: Request, token: str) -> Response:
    reader = _reader(request, token)
    return reader if isinstance(reader, Response) else _page(reader, token)


def _pause(value: str) -> dt.date | str | None:
    """The pause date from the form: None (no pause), a date, or 'bad'."""
    if not value.strip():
        return None
    try:
        day = dt.date.fromisoformat(value.strip()[:10])
    except ValueError:
        return "bad"
    today = dt.date.today()
    return day if today < day <= today + dt.timedelta(days=MAX_PAUSE_DAYS) else "bad"


@router.post("/u/{token}/preferences", response_class=HTMLResponse, include_in_schema=False)
async def save_preferences(request: Request, token: str) -> Response:
    reader = _reader(request, token)
    if isinstance(reader, Response):
        return reader
    try:
        form = await request.form(max_files=0, max_fields=64)
    except (MultiPartException, ClientDisconnect, ValueError):
        return _page(reader, token, reader.texts["bad_form"], status=400)
    spec = reader.spec
    language = str(form.get("language") or reader.lang)
    known = {i.id for i in spec.interests}
    interests = sorted({str(v) for v in form.getlist("interests")})
    pause = _pause(str(form.get("paused_until") or ""))
    if language not in spec.campaign.languages or not set(interests) <= known:
        return _page(reader, token, reader.texts["bad_form"], status=400)
    if pause == "bad":
        return _page(reader, token, reader.texts["bad_date"], status=400)
    with get_engine().begin() as conn:
        update_preferences(
            conn,
            reader.contact_id,
            spec.campaign.id,
            language,
            interests,
            pause if isinstance(pause, dt.date) else None,
        )
    saved = _reader(request, token, chosen=language)  # the page now in the language chosen
    if isinstance(saved, Response):
        return saved
    return _page(saved, token, saved.texts["saved"])


def _leave(request: Request, token: str, scope: str) -> Response:
    reader = _reader(request, token)
    if isinstance(reader, Response):
        return reader
    with get_engine().begin() as conn:
        unsubscribe(conn, reader.contact_id, reader.spec.campaign.id, scope, reader.lang, "page")
    if scope == EVERYTHING:
        return _message(reader, reader.texts["leave_all_title"], reader.texts["left_all"], token)
    return _message(reader, reader.texts["leave_campaign_title"], reader.texts["left_campaign"], token)


@router.post("/u/{token}/leave", response_class=HTMLResponse, include_in_schema=False)
def leave_campaign(request: Request, token: str) -> Response:
    return _leave(request, token, CAMPAIGN)


@router.post("/u/{token}/leave-all", response_class=HTMLResponse, include_in_schema=False)
def leave_everything(request: Request, token: str) -> Response:
    return _leave(request, token, EVERYTHING)


@router.get("/u/{token}/data.json", include_in_schema=False)
def download_data(request: Request, token: str) -> Response:
    reader = _reader(request, token)
    if isinstance(reader, Response):
        return reader
    record = personal_data.find(reader.email).as_json()
    body = json.dumps(record, ensure_ascii=False, indent=2, default=str)
    headers = {**HEADERS, "Content-Disposition": 'attachment; filename="my-data.json"'}
    return Response(body, media_type="application/json", headers=headers)


@router.get("/u/{token}/erase", response_class=HTMLResponse, include_in_schema=False)
def erase_ask(request: Request, token: str) -> Response:
    reader = _reader(request, token)
    if isinstance(reader, Response):
        return reader
    t, e = reader.texts, html.escape
    body = (
        f"<p>{e(t['erase_text'])}</p><p><strong>{e(t['erase_confirm'])}</strong></p>"
        f'<form method="post" action="/u/{token}/erase{_query(reader)}">'
        f'<button type="submit">{e(t["erase_confirm_button"])}</button></form>'
        f'<p><a href="/u/{token}/preferences{_query(reader)}">{e(t["back"])}</a></p>'
    )
    return document(reader.spec, reader.lang, t["erase_title"], body, t)


@router.post("/u/{token}/erase", response_class=HTMLResponse, include_in_schema=False)
def erase(request: Request, token: str) -> Response:
    reader = _reader(request, token)
    if isinstance(reader, Response):
        return reader
    personal_data.erase_everywhere(reader.email)
    return _message(reader, reader.texts["erase_title"], reader.texts["erased"])
