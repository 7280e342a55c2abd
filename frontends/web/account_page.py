"""`/account`: the signed-in person's own page: who they are, their roles, and the language the
web app speaks to them (English, Dutch or French, or whatever their browser asks for)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool

from accounts import directory
from accounts.directory import AUTO_LANGUAGE
from accounts.models import INTERFACE_LANGUAGES
from accounts.roles import Actor, NotSignedIn
from campaign.db import session_scope
from frontends.web.dashboard import done_message
from frontends.web.i18n import N_
from frontends.web.pages import FriendlyRoute, page
from frontends.web.security import check_csrf, signed_in

router = APIRouter(route_class=FriendlyRoute)
# Each language named in itself, the way a language menu reads for someone who cannot read the others.
LANGUAGE_NAMES = {"en": "English", "nl": "Nederlands", "fr": "Français"}
ROLE_WORDS = (N_("viewer"), N_("editor"), N_("approver"), N_("operator"), N_("admin"))  # translated where shown


def _me(request: Request) -> Actor:
    actor = signed_in(request)
    if actor is None:
        raise NotSignedIn(N_("this page is your account's: sign in first"))
    return actor


@router.get("/account", summary="Your account: roles and the web app's language")
def account_page(request: Request) -> Response:
    me = _me(request)
    return page(
        request,
        "account.html",
        title=N_("Your account"),
        me=me,
        languages=[(code, LANGUAGE_NAMES[code]) for code in INTERFACE_LANGUAGES],
        auto=AUTO_LANGUAGE,
        done=done_message(request),
    )


def _save(request: Request, language: str) -> None:
    me = _me(request)
    with session_scope() as session:
        directory.set_language(session, me, me.email, language)


@router.post("/account", dependencies=[Depends(check_csrf)], summary="Choose the web app's language for your account")
async def save_account(request: Request, language: str = Form("")) -> Response:
    await run_in_threadpool(_save, request, language)
    return RedirectResponse("/account?done=language", status_code=303)
