"""The public subscribe form, its embeddable copy, the JSON endpoint, and the confirmation link.

- ``GET /subscribe``: the form, in the language of ``?lang=`` or else of ``Accept-Language``;
  links switch the language (no script). ``POST /subscribe`` takes it (signed double-submit CSRF).
- ``GET /subscribe/embed``: the HTML to paste into the campaign's own site; it posts to
  ``POST /subscribe/embed`` (no CSRF cookie can cross sites: the honeypot, the rate limits and
  double opt-in guard it).
- ``POST /api/subscribe``: JSON ``{email, first_name, language, interests}``; CORS for the
  origins campaign.yaml lists under ``campaign.subscribe.cors_origins``.
- ``GET /subscribe/confirm/{token}`` asks, ``POST`` confirms (mail scanners follow links, so
  a GET never subscribes anyone).

Every accepted request gets the same answer whether the address is known, new, suppressed or
over its own limit: the page never tells who is subscribed. A filled honeypot gets that answer
too, and nothing is stored. Only the client's limit answers differently (429): it says nothing
about any address.
"""

from __future__ import annotations

import html
import json
import logging
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.formparsers import MultiPartException
from starlette.requests import ClientDisconnect

from audiences.normalise import InvalidEmail
from audiences.subscriptions import (
    InvalidLink,
    checked_request,
    confirm,
    confirm_url,
    consent_text,
    pending,
    request_subscription,
)
from audiences.tokens import unsubscribe_token
from campaign.db import get_engine
from campaign.errors import WavecastError
from campaign.model import Campaign
from campaign.people_strings import campaign_texts
from campaign.settings import get_settings
from frontends.web.accept_language import campaign_language
from frontends.web.error_pages import public_error
from frontends.web.pages import campaign_spec
from frontends.web.people_page import document, interest_boxes, language_select, language_switch
from frontends.web.rate_limit import address_allowed, client_allowed
from frontends.web.security import CSRF_FIELD, Forbidden, check_csrf, csrf_for, remember_csrf
from waves.confirmation_mail import send_confirmation

router = APIRouter()
log = logging.getLogger(__name__)
# Inline, so the honeypot stays out of sight on the campaign's own site too (the embedded form).
_OFF_SCREEN = "position:absolute;left:-10000px;width:1px;height:1px;overflow:hidden"
HONEYPOT = "website"
MAX_BODY = 16 * 1024


def _language(spec: Campaign, request: Request, wanted: str | None = None) -> str:
    langs = spec.campaign.languages
    if wanted in langs:
        return str(wanted)
    asked = request.query_params.get("lang")
    if asked in langs:
        return str(asked)
    return campaign_language(request.headers.get("accept-language"), langs)


def _texts(spec: Campaign, lang: str) -> dict[str, str]:
    return campaign_texts(spec, lang)


def _spec(request: Request) -> Campaign | None:
    try:
        return campaign_spec(request)
    except (WavecastError, OSError):
        return None


def _form(spec: Campaign, lang: str, texts: dict[str, str], action: str, csrf: str = "", error: str = "") -> str:
    """The form's HTML: labels for every control, the consent text shown as it is hashed."""
    _, consent = consent_text(spec, lang)
    e = html.escape
    problem = f'<p class="note" role="alert">{e(error)}</p>' if error else ""
    token = f'<input type="hidden" name="{CSRF_FIELD}" value="{e(csrf)}">' if csrf else ""
    return (
        f'{problem}<form method="post" action="{e(action)}">{token}'
        f'<label for="email">{e(texts["email_label"])}</label>'
        '<input id="email" name="email" type="email" required autocomplete="email" maxlength="320">'
        f'<label for="first_name">{e(texts["first_name_label"])}</label>'
        '<input id="first_name" name="first_name" type="text" autocomplete="given-name" maxlength="100">'
        f"{language_select(spec, lang, texts['language_label'])}"
        f"{interest_boxes(spec, lang, texts['interests_legend'])}"
        f'<div style="{_OFF_SCREEN}" aria-hidden="true"><label for="{HONEYPOT}">{e(texts["honeypot_label"])}</label>'
        f'<input id="{HONEYPOT}" name="{HONEYPOT}" type="text" tabindex="-1" autocomplete="off"></div>'
        f'<p class="note">{e(consent)}</p>'
        f'<button type="submit">{e(texts["subscribe_button"])}</button></form>'
    )


def _closed(request: Request, spec: Campaign | None) -> HTMLResponse:
    if spec is None:
        return public_error(request, 404)
    lang = _language(spec, request)
    texts = _texts(spec, lang)
    body = f"<p>{html.escape(texts['closed'])}</p>"
    return document(spec, lang, texts["subscribe_title"], body, texts, status=404)


@router.get("/subscribe", response_class=HTMLResponse, include_in_schema=False)
def subscribe_page(request: Request) -> Response:
    spec = _spec(request)
    if spec is None or spec.campaign.subscribe is None:
        return _closed(request, spec)
    lang = _language(spec, request)
    texts = _texts(spec, lang)
    nonce, token = csrf_for(request)
    body = f"<p>{html.escape(texts['subscribe_intro'])}</p>" + _form(spec, lang, texts, "/subscribe", token)
    switch = language_switch(spec, lang, texts["switch_language"], "/subscribe")
    response = document(spec, lang, texts["subscribe_title"], body, texts, switch=switch)
    remember_csrf(request, response, nonce)
    return response


@router.get("/subscribe/embed", response_class=HTMLResponse, include_in_schema=False)
def embed_code(request: Request) -> Response:
    """The form to paste into the campaign's own web page (one per language: ?lang=)."""
    spec = _spec(request)
    if spec is None or spec.campaign.subscribe is None:
        return _closed(request, spec)
    lang = _language(spec, request)
    texts = _texts(spec, lang)
    snippet = _form(spec, lang, texts, f"{get_settings().base_url}/subscribe/embed")
    body = f"<p>{html.escape(texts['subscribe_intro'])}</p><pre><code>{html.escape(snippet)}</code></pre>{snippet}"
    return document(spec, lang, texts["subscribe_title"], body, texts)


async def _form_fields(request: Request) -> dict[str, Any] | None:
    length = request.headers.get("content-length") or "0"
    if not length.isdigit() or int(length) > MAX_BODY:
        return None
    try:
        form = await request.form(max_files=0, max_fields=64)
    except (MultiPartException, ClientDisconnect, ValueError):
        return None
    return {
        "email": str(form.get("email") or ""),
        "first_name": str(form.get("first_name") or ""),
        "language": str(form.get("language") or ""),
        "interests": [str(v) for v in form.getlist("interests")],
        HONEYPOT: str(form.get(HONEYPOT) or ""),
    }


def _take(spec: Campaign, fields: dict[str, Any], source: str, client: str) -> str:
    """Act on a subscribe request; returns 'sent', 'too_many', 'unavailable' (the relay or the
    database is away) or the key of the input's problem."""
    if not client_allowed(client):
        return "too_many"
    if fields.get(HONEYPOT):
        return "sent"  # a robot filled the hidden field: the same answer, nothing stored or sent
    try:
        wanted = checked_request(
            spec, fields["email"], fields["first_name"] or None, fields["language"], fields["interests"], source
        )
    except InvalidEmail:
        return "bad_email"
    except WavecastError:
        return "bad_form"
    if not address_allowed(wanted.email):
        return "sent"
    try:
        with get_engine().begin() as conn:
            token = request_subscription(conn, spec, wanted)
        send_confirmation(spec, wanted.email, wanted.language, confirm_url(token))
    except WavecastError:
        log.warning("a subscribe request could not be taken", exc_info=True)
        return "unavailable"  # the request, if stored, expires unconfirmed
    return "sent"


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def _answer(request: Request, source: str, csrf: bool) -> Response:
    spec = _spec(request)
    if spec is None or spec.campaign.subscribe is None:
        return _closed(request, spec)
    fields = await _form_fields(request)
    lang = _language(spec, request, fields["language"] if fields else None)
    texts = _texts(spec, lang)
    outcome = "bad_form"
    if fields is not None:
        try:
            if csrf:
                await check_csrf(request)
            outcome = await run_in_threadpool(_take, spec, fields, source, _client(request))
        except Forbidden:
            outcome = "bad_form"
    if outcome == "sent":
        return document(spec, lang, texts["sent_title"], f"<p>{html.escape(texts['sent'])}</p>", texts)
    status = {"too_many": 429, "unavailable": 503}.get(outcome, 400)
    nonce, token = csrf_for(request)
    action = "/subscribe" if csrf else f"{get_settings().base_url}/subscribe/embed"
    body = _form(spec, lang, texts, action, token if csrf else "", texts[outcome])
    response = document(spec, lang, texts["subscribe_title"], body, texts, status=status)
    if status == 429:
        response.headers["Retry-After"] = "3600"
    if csrf:
        remember_csrf(request, response, nonce)
    return response


@router.post("/subscribe", response_class=HTMLResponse, include_in_schema=False)
async def subscribe(request: Request) -> Response:
    return await _answer(request, "page", csrf=True)


@router.post("/subscribe/embed", response_class=HTMLResponse, include_in_schema=False)
async def subscribe_embedded(request: Request) -> Response:
    return await _answer(request, "embed", csrf=False)


def _cors(spec: Campaign | None, request: Request) -> dict[str, str] | None:
    """CORS headers for a listed origin, {} when no Origin was sent, None for another origin."""
    origin = request.headers.get("origin")
    if origin is None:
        return {}
    allowed = spec.campaign.subscribe.cors_origins if spec and spec.campaign.subscribe else ()
    if origin not in allowed:
        return None
    return {
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Allow-Methods": "POST, OPTIONS",
        "Access-Control-Allow-Headers": "Content-Type",
        "Access-Control-Max-Age": "600",
        "Vary": "Origin",
    }


@router.options("/api/subscribe", include_in_schema=False)
def subscribe_preflight(request: Request) -> Response:
    cors = _cors(_spec(request), request)
    return Response(status_code=204 if cors is not None else 403, headers=cors or {"Vary": "Origin"})


def _json_error(status: int, error: str, cors: dict[str, str]) -> JSONResponse:
    return JSONResponse({"error": error}, status_code=status, headers={"Cache-Control": "no-store", **cors})


@router.post("/api/subscribe", summary="Subscribe (double opt-in): a confirmation e-mail is sent")
async def subscribe_json(request: Request) -> Response:
    spec = _spec(request)
    cors = _cors(spec, request)
    if cors is None:
        return _json_error(403, "this origin may not use the subscribe endpoint", {"Vary": "Origin"})
    if spec is None or spec.campaign.subscribe is None:
        return _json_error(404, "this campaign takes no subscriptions", cors)
    raw = await request.body()
    try:
        data = json.loads(raw) if len(raw) <= MAX_BODY else None
    except ValueError:
        data = None
    if not isinstance(data, dict):
        return _json_error(400, "send a JSON object: {email, first_name, language, interests}", cors)
    interests = data.get("interests") or []
    fields = {
        "email": data.get("email"),
        "first_name": data.get("first_name") or "",
        "language": data.get("language") or _language(spec, request),
        "interests": interests,
        HONEYPOT: data.get(HONEYPOT) or "",
    }
    if not all(isinstance(fields[k], str) for k in ("email", "first_name", "language", HONEYPOT)) or not (
        isinstance(interests, list) and all(isinstance(i, str) for i in interests)
    ):
        return _json_error(400, "email, first_name and language are strings; interests is a list of ids", cors)
    outcome = await run_in_threadpool(_take, spec, fields, "api", _client(request))
    messages = {
        "bad_email": "email: not a valid e-mail address",
        "bad_form": "language or interests: not one the campaign offers, or first_name too long",
        "too_many": "too many requests from this client: try again in an hour",
        "unavailable": "the confirmation e-mail cannot be sent right now: try again later",
    }
    if outcome != "sent":
        return _json_error({"too_many": 429, "unavailable": 503}.get(outcome, 400), messages[outcome], cors)
    return JSONResponse(
        {"status": "sent", "detail": "if the address can receive the newsletter, a confirmation link was sent"},
        status_code=202,
        headers={"Cache-Control": "no-store", **cors},
    )


def _confirm_page(request: Request, token: str, *, act: bool) -> Response:
    spec = _spec(request)
    if spec is None or spec.campaign.subscribe is None:
        return _closed(request, spec)
    try:
        with get_engine().begin() as conn:
            if act:
                contact_id, lang = confirm(conn, spec, token)
            else:
                lang, contact_id = pending(conn, spec, token), 0
    except InvalidLink:
        lang = _language(spec, request)
        texts = _texts(spec, lang)
        return document(
            spec, lang, texts["confirm_title"], f"<p>{html.escape(texts['invalid_link'])}</p>", texts, status=400
        )
    texts = _texts(spec, lang)
    e = html.escape
    if not act:
        body = (
            f'<p>{e(texts["confirm_ask"])}</p><form method="post">'
            f'<button type="submit">{e(texts["confirm_button"])}</button></form>'
        )
        return document(spec, lang, texts["confirm_title"], body, texts)
    preferences = f"/u/{unsubscribe_token(contact_id)}/preferences"
    body = f'<p>{e(texts["confirmed"])}</p><p><a href="{e(preferences)}">{e(texts["preferences_link"])}</a></p>'
    return document(spec, lang, texts["confirm_title"], body, texts)


@router.get("/subscribe/confirm/{token}", response_class=HTMLResponse, include_in_schema=False)
def confirm_ask(request: Request, token: str) -> Response:
    return _confirm_page(request, token, act=False)


@router.post("/subscribe/confirm/{token}", response_class=HTMLResponse, include_in_schema=False)
def confirm_subscription(request: Request, token: str) -> Response:
    return _confirm_page(request, token, act=True)
