"""The public unsubscribe page: GET asks, POST unsubscribes from this campaign (also RFC 8058
one-click); the page then offers unsubscribing from everything as a second step.

Scope: with a campaign loaded (``wavecast serve DIR``), the POST unsubscribes from that campaign
only (``campaign_unsubscribes``) and the page says so; the second step (``/u/{token}/leave-all``,
frontends/web/preferences.py) stops every campaign. Without a campaign there is no scope to
name, so the POST stops everything (the safe side) and the page says nothing narrower.

``GET /u/{token}`` shows a confirmation page in the contact's language with one button; it
never unsubscribes by itself, because mail scanners follow links. ``POST /u/{token}``
unsubscribes: no cookie, no login, no redirect, 200 every time (idempotent). It takes the
one-click body ``List-Unsubscribe=One-Click`` and the page's empty form post alike; the body
is not needed, so it is not read. A forged or expired token gets 400 and changes nothing; a
valid token of a contact who was erased gets 404.

The page says "unsubscribe" with the very words of the newsletter's footer (the title is the
footer's link text, templates/newsletter/strings.yaml), and in the register the newsletter used:
the footer's link carries ``?register=tu`` (du, je) when the campaign addresses that audience
informally. Without it, or with anything else there, the page is formal.
"""

from __future__ import annotations

import html

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select

from audiences.consent import unsubscribe_contact
from audiences.models import contacts
from audiences.preferences import CAMPAIGN, EVERYTHING, left_campaign
from audiences.preferences import unsubscribe as unsubscribe_in_scope
from audiences.tokens import InvalidToken, contact_for_token
from campaign.db import get_engine
from campaign.errors import WavecastError
from campaign.layout_strings import typeset
from campaign.model import Campaign
from campaign.people_strings import campaign_register, campaign_texts
from frontends.web.error_pages import reader_language
from frontends.web.pages import campaign_spec
from frontends.web.people_page import document

router = APIRouter()

TEXTS: dict[str, dict[str, str]] = {
    "nl": {
        "title": "Uitschrijven",
        "ask": "Wilt u geen berichten van deze campagne meer ontvangen?",
        "button": "Uitschrijven",
        "done": "U bent uitgeschreven. U ontvangt geen berichten meer van deze campagne.",
        "already": "U bent al uitgeschreven. U ontvangt geen berichten meer van deze campagne.",
        "invalid": "Deze link is ongeldig of verlopen. Er is niets gewijzigd.",
        "gone": "Wij bewaren geen gegevens meer bij deze link. U ontvangt geen berichten.",
    },
    "fr": {
        "title": "Se désinscrire",
        "ask": "Vous ne souhaitez plus recevoir les messages de cette campagne ?",
        "button": "Me désinscrire",
        "done": "Vous êtes désinscrit·e. Vous ne recevrez plus de messages de cette campagne.",
        "already": "Vous êtes déjà désinscrit·e. Vous ne recevrez plus de messages de cette campagne.",
        "invalid": "Ce lien n’est pas valide ou a expiré. Rien n’a été modifié.",
        "gone": "Nous ne conservons plus de données liées à ce lien. Vous ne recevrez aucun message.",
    },
    "de": {
        "title": "Abmelden",
        "ask": "Möchten Sie keine Nachrichten dieser Kampagne mehr erhalten?",
        "button": "Abmelden",
        "done": "Sie sind abgemeldet. Sie erhalten keine Nachrichten dieser Kampagne mehr.",
        "already": "Sie sind bereits abgemeldet. Sie erhalten keine Nachrichten dieser Kampagne mehr.",
        "invalid": "Dieser Link ist ungültig oder abgelaufen. Es wurde nichts geändert.",
        "gone": "Zu diesem Link speichern wir keine Daten mehr. Sie erhalten keine Nachrichten.",
    },
    "en": {
        "title": "Unsubscribe",
        "ask": "Do you no longer want to receive messages from this campaign?",
        "button": "Unsubscribe",
        "done": "You are unsubscribed. You will receive no more messages from this campaign.",
        "already": "You are already unsubscribed. You will receive no more messages from this campaign.",
        "invalid": "This link is not valid or has expired. Nothing was changed.",
        "gone": "We no longer hold any data for this link. You will receive no messages.",
    },
}
# The informal register's texts, where they differ; the key is the pronoun the footer's link names.
INFORMAL: dict[str, dict[str, dict[str, str]]] = {
    "nl": {
        "je": {
            "ask": "Wil je geen berichten van deze campagne meer ontvangen?",
            "done": "Je bent uitgeschreven. Je ontvangt geen berichten meer van deze campagne.",
            "already": "Je bent al uitgeschreven. Je ontvangt geen berichten meer van deze campagne.",
            "gone": "Wij bewaren geen gegevens meer bij deze link. Je ontvangt geen berichten.",
        },
    },
    "fr": {
        "tu": {
            "ask": "Tu ne veux plus recevoir les messages de cette campagne ?",
            "done": "Tu es désinscrit·e. Tu ne recevras plus de messages de cette campagne.",
            "already": "Tu es déjà désinscrit·e. Tu ne recevras plus de messages de cette campagne.",
            "gone": "Nous ne conservons plus de données liées à ce lien. Tu ne recevras aucun message.",
        },
    },
    "de": {
        "du": {
            "ask": "Möchtest du keine Nachrichten dieser Kampagne mehr erhalten?",
            "done": "Du bist abgemeldet. Du erhältst keine Nachrichten dieser Kampagne mehr.",
            "already": "Du bist bereits abgemeldet. Du erhältst keine Nachrichten dieser Kampagne mehr.",
            "gone": "Zu diesem Link speichern wir keine Daten mehr. Du erhältst keine Nachrichten.",
        },
    },
}
HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
}
STYLE = (
    "body{font-family:system-ui,sans-serif;line-height:1.5;color:#1a1a1a;background:#fff;"
    "max-width:36rem;margin:2rem auto;padding:0 1rem}"
    "button{font:inherit;padding:.6rem 1.4rem;border:2px solid #1a1a1a;background:#fff;"
    "color:#1a1a1a;cursor:pointer}"
    "button:focus-visible{outline:3px solid #1d70b8;outline-offset:2px}"
    "section+section{border-top:1px solid #767676;margin-top:1.5rem}"
)


def texts(lang: str, register: str = "") -> dict[str, str]:
    """The page's texts in `lang` and `register` (formal unless the language has that one), typeset."""
    found = TEXTS[lang] | INFORMAL.get(lang, {}).get(register, {})
    return {key: typeset(lang, text) for key, text in found.items()}


def _section(lang: str, key: str, form: bool, register: str = "") -> str:
    text = texts(lang, register)
    button = f'<form method="post"><button type="submit">{html.escape(text["button"])}</button></form>'
    return (
        f'<section lang="{lang}"><h1>{html.escape(text["title"])}</h1>'
        f"<p>{html.escape(text[key])}</p>{button if form else ''}</section>"
    )


def page(langs: list[str], key: str, *, form: bool = False, status: int = 200, register: str = "") -> HTMLResponse:
    """A small, self-contained page; several languages when we cannot know the reader's."""
    body = "".join(_section(lang, key, form, register) for lang in langs)
    document = (
        f'<!doctype html><html lang="{langs[0]}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="robots" content="noindex">'
        f"<title>{html.escape(texts(langs[0])['title'])}</title><style>{STYLE}</style></head>"
        f"<body><main>{body}</main></body></html>"
    )
    return HTMLResponse(document, status_code=status, headers=HEADERS)


def _reader_language(request: Request) -> str:
    """Without a contact: the language the browser prefers among ours, as on every public page."""
    return reader_language(request)


def _spec(request: Request) -> Campaign | None:
    try:
        return campaign_spec(request)
    except (WavecastError, OSError):
        return None


def _lookup(token: str, spec: Campaign | None) -> tuple[int, str | None, str] | None:
    """(contact id, language, what they left: "" nothing, CAMPAIGN or EVERYTHING) or None when
    the contact no longer exists."""
    contact_id = contact_for_token(token)
    with get_engine().connect() as conn:
        row = conn.execute(
            select(contacts.c.language, contacts.c.unsubscribed_at).where(contacts.c.id == contact_id)
        ).first()
        if row is None:
            return None
        left = spec is not None and left_campaign(conn, contact_id, spec.campaign.id)
    return contact_id, row.language, EVERYTHING if row.unsubscribed_at is not None else CAMPAIGN if left else ""


def _everyone(request: Request) -> list[str]:
    first = _reader_language(request)
    return [first, *(lang for lang in TEXTS if lang != first)]


def _found(token: str, request: Request, spec: Campaign | None) -> tuple[int, str | None, str] | HTMLResponse:
    """The token's contact, or the page that says, in every language, why there is none."""
    try:
        found = _lookup(token, spec)
    except InvalidToken:
        return page(_everyone(request), "invalid", status=400)
    if found is None:
        return page(_everyone(request), "gone", status=404)
    return found


def _branded(
    spec: Campaign, token: str, lang: str, key: str, register: str, *, form: bool, everything: bool
) -> HTMLResponse:
    """The page in the campaign's colours; after unsubscribing, "everything" as a second step
    (unless that is done already)."""
    text = texts(lang, register)
    people = campaign_texts(spec, lang, register)
    query = f"?lang={lang}" + (f"&amp;register={html.escape(register)}" if register else "")
    e = html.escape
    body = f"<p>{e(people['left_all'] if everything else text[key])}</p>"
    if form and not everything:
        body += f'<form method="post"><button type="submit">{e(text["button"])}</button></form>'
    elif not everything:
        body += (
            f"<section><h2>{e(people['leave_all_title'])}</h2><p>{e(people['leave_all_text'])}</p>"
            f'<form method="post" action="/u/{token}/leave-all{query}">'
            f'<button type="submit" class="quiet">{e(people["leave_all_button"])}</button></form></section>'
        )
    body += f'<p><a href="/u/{token}/preferences{query}">{e(people["preferences_link"])}</a></p>'
    return document(spec, lang, text["title"], body, people)


def _show(
    spec: Campaign | None, token: str, lang: str, key: str, register: str, form: bool = False, left: str = ""
) -> HTMLResponse:
    if spec is None or lang not in spec.campaign.languages:
        return page([lang], key, form=form, register=register)
    # The footer's link names the register when it is not the campaign's (see campaign.newsletter).
    register = register or campaign_register(spec, lang)
    return _branded(spec, token, lang, key, register, form=form, everything=left == EVERYTHING)


@router.get("/u/{token}", response_class=HTMLResponse, include_in_schema=False)
def confirm_page(token: str, request: Request, register: str = "") -> HTMLResponse:
    spec = _spec(request)
    found = _found(token, request, spec)
    if isinstance(found, HTMLResponse):
        return found
    _, language, left = found
    lang = language if language in TEXTS else _reader_language(request)
    if left:
        return _show(spec, token, lang, "already", register, left=left)
    return _show(spec, token, lang, "ask", register, form=True)


@router.post("/u/{token}", response_class=HTMLResponse, include_in_schema=False)
def unsubscribe(token: str, request: Request, register: str = "") -> HTMLResponse:
    spec = _spec(request)
    found = _found(token, request, spec)
    if isinstance(found, HTMLResponse):
        return found
    contact_id, language, left = found
    lang = language if language in TEXTS else _reader_language(request)
    with get_engine().begin() as conn:
        if spec is None:
            unsubscribe_contact(conn, contact_id)
        else:
            unsubscribe_in_scope(conn, contact_id, spec.campaign.id, CAMPAIGN, lang, "one-click")
    return _show(spec, token, lang, "done", register, left=left)
