"""Signing in and out of the web app: password (+ one-time code), sign-out, sign-out everywhere.

Single sign-on (OpenID Connect) is in ``frontends.web.oidc``. A failed sign-in is counted
against the account (backoff, then a lock; see ``accounts.signin``) and recorded in the audit
log; the answer is the same for every reason, so it tells nobody which addresses exist."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool

from accounts import audit, sessions, signin
from accounts.roles import NotSignedIn
from campaign.db import session_scope
from campaign.settings import get_settings
from frontends.web.i18n import N_
from frontends.web.pages import FriendlyRoute, page
from frontends.web.security import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    check_csrf,
    csrf_for,
    end_session,
    remember_csrf,
    signed_in,
    start_session,
)

router = APIRouter(route_class=FriendlyRoute)


def local_path(path: str) -> str:
    """Only a path on this site (no scheme, no //host): an open redirect otherwise."""
    return path if path.startswith("/") and not path.startswith("//") and "\\" not in path else "/"


def after_sign_in(next_path: str) -> str:
    path = local_path(next_path)
    return path + ("&" if "?" in path else "?") + "done=login"


@router.get("/login", summary="Sign-in form")
def login_page(request: Request, next: str = "/") -> Response:
    return page(request, "login.html", title=N_("Sign in"), next=local_path(next), sso=get_settings().oidc is not None)


@router.post("/login", dependencies=[Depends(check_csrf)], summary="Sign in with a password (sets a session cookie)")
async def login(
    request: Request, email: str = Form(""), password: str = Form(""), code: str = Form(""), next: str = Form("/")
) -> Response:
    actor = await run_in_threadpool(signin.with_password, session_scope, email, password, code)
    response = RedirectResponse(after_sign_in(next), status_code=303)
    await run_in_threadpool(start_session, request, response, actor)
    return response


@router.post("/logout", dependencies=[Depends(check_csrf)], summary="Sign out this browser")
async def logout(request: Request) -> Response:
    response = RedirectResponse("/?done=logout", status_code=303)
    await run_in_threadpool(end_session, request, response)
    return response


def _everywhere(request: Request) -> None:
    actor = signed_in(request)
    if actor is None:
        raise NotSignedIn(N_("sign in first"))
    with session_scope() as session:
        ended = sessions.end_everywhere(session, actor.id)
        audit.record(session, actor, "accounts.signout", "account", actor.email, after={"sessions": ended})


@router.post("/logout/everywhere", dependencies=[Depends(check_csrf)], summary="Sign out of every browser")
async def logout_everywhere(request: Request) -> Response:
    await run_in_threadpool(_everywhere, request)
    response = RedirectResponse("/?done=everywhere", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax")
    return response


@router.get("/api/csrf", summary="A CSRF token (and its cookie) for scripted clients")
def csrf_token(request: Request) -> JSONResponse:
    nonce, token = csrf_for(request)
    response = JSONResponse({"csrf_token": token, "cookie": CSRF_COOKIE, "header": "X-CSRF-Token"})
    remember_csrf(request, response, nonce)
    return response
