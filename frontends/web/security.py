"""Who may do what in the web app: people sign in; each action needs its role and a CSRF token.

- Reading (dashboard and preview pages) is open to requests from 127.0.0.1 / ::1 that name
  this machine by a loopback name; otherwise it needs a signed-in account (any role).
- Signing in: a password (Argon2) with a one-time code when the account has one
  (`/login`), or the organisation's OpenID Connect provider (`/login/oidc`). The browser gets
  a session cookie: a random id (its digest in `web_sessions`), HttpOnly, SameSite=Lax, Secure
  on https; it ends after WAVECAST_SESSION_IDLE_MINUTES unused, after 12 hours in any case, at
  sign-out, and everywhere at once with "sign out everywhere".
- A script sends a personal API token instead: ``Authorization: Bearer <token>``.
- Every state-changing request (approve, launch, pause, resume, cancel, review) needs:
  1. an account (session or token) -> else 401;
  2. the role of the action (`accounts.roles.ACTIONS`) -> else 403;
  3. a CSRF token (signed double submit): the page's form field ``csrf_token`` or the
     ``X-CSRF-Token`` header must be our signature of the nonce in the ``wavecast_csrf``
     cookie -> else 403.
  All three run before anything else is read, so a refused request changes nothing.
"""

from __future__ import annotations

import datetime as dt
import hmac
import ipaddress
import secrets
from collections.abc import Awaitable, Callable

from fastapi import Request, Response
from itsdangerous import BadData, URLSafeSerializer
from starlette.concurrency import run_in_threadpool

from accounts import sessions, tokens
from accounts.roles import Actor, NotAllowed, NotSignedIn
from campaign.db import session_scope
from campaign.settings import get_settings
from frontends.web.i18n import N_

SESSION_COOKIE = "wavecast_session"
CSRF_COOKIE = "wavecast_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"

# The state-changing routes anyone may call, each with its own proof instead of an account:
# the one place that says so (tests/test_role_matrix.py holds every other route to a role).
PUBLIC_ROUTES: dict[tuple[str, str], str] = {
    ("POST", "/u/{token}"): "an unsubscribe: the signed token in the link is the proof",
    ("POST", "/hooks/ses"): "a bounce report: the provider's signature is the proof",
    ("POST", "/hooks/mailgun"): "a bounce report: the provider's signature is the proof",
    ("POST", "/login"): "signing in: the password (and code) is the proof",
    ("POST", "/logout"): "signing out this browser: ends only the session it holds",
    ("POST", "/logout/everywhere"): "signing out everywhere: ends only the signed-in account's own sessions",
    ("POST", "/account"): "the signed-in account's own interface language: needs the account, changes nothing else",
    ("POST", "/subscribe"): "a visitor's subscribe request: nothing counts until the e-mailed link is followed",
    ("POST", "/subscribe/embed"): "the same request from the form embedded on the campaign's site",
    ("POST", "/api/subscribe"): "the same request as JSON, from the origins the campaign lists",
    ("OPTIONS", "/api/subscribe"): "the browser's CORS question before that request; changes nothing",
    ("POST", "/subscribe/confirm/{token}"): "confirming a subscription: the signed, expiring link is the proof",
    ("POST", "/u/{token}/preferences"): "a reader's own preferences: the signed link in their e-mail is the proof",
    ("POST", "/u/{token}/leave"): "a reader leaving this campaign: the signed link is the proof",
    ("POST", "/u/{token}/leave-all"): "a reader leaving every campaign: the signed link is the proof",
    ("POST", "/u/{token}/erase"): "a reader's erasure, after a confirmation step: the signed link is the proof",
}

Unauthorised = NotSignedIn  # 401, with WWW-Authenticate (frontends.web.pages)
Forbidden = NotAllowed  # 403


def _csrf_serializer() -> URLSafeSerializer:
    return URLSafeSerializer(get_settings().secret_key, salt="wavecast.csrf")


def _bearer(request: Request) -> str | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def _lookup(request: Request) -> Actor | None:
    token = _bearer(request)
    with session_scope() as session:
        if token is not None:
            return tokens.resolve(session, token)  # a bad token is a 401 saying why, not "anonymous"
        cookie = request.cookies.get(SESSION_COOKIE)
        if not cookie:
            return None
        return sessions.resume(session, cookie, dt.timedelta(minutes=get_settings().session_idle_minutes))


def signed_in(request: Request) -> Actor | None:
    """The request's account, looked up once per request; NotSignedIn for a bad bearer token."""
    if "actor" not in request.state._state:
        request.state.actor = _lookup(request)
    actor: Actor | None = request.state.actor
    return actor


def shown_account(request: Request) -> Actor | None:
    """The account a page names in its header; none when the request's token is bad (the page
    is then the 401 that says so)."""
    try:
        return signed_in(request)
    except NotSignedIn:
        return None


def is_loopback(request: Request) -> bool:
    host = request.client.host if request.client else ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


_LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})
_PROXY_HEADERS = ("forwarded", "x-forwarded-for", "x-real-ip")


def local_host_name(request: Request) -> bool:
    """Was the page asked for by a loopback name? Another name pointing at 127.0.0.1 is how a
    web page elsewhere would read this one (DNS rebinding), so it gets no open reading. Nor
    does the public name of WAVECAST_BASE_URL: behind a reverse proxy on this machine, every
    visitor arrives from 127.0.0.1 with that name."""
    return request.url.hostname in _LOOPBACK_NAMES


def proxied(request: Request) -> bool:
    """Did a reverse proxy pass the request on? Then loopback says nothing about the visitor."""
    return any(name in request.headers for name in _PROXY_HEADERS)


def require_reader(request: Request) -> None:
    """Reading is open on loopback; from another machine (or through a proxy) it takes an account."""
    if is_loopback(request) and local_host_name(request) and not proxied(request) and _bearer(request) is None:
        return
    if signed_in(request) is None:
        raise Unauthorised(N_("this page is open on 127.0.0.1 only; from elsewhere, sign in"))


def start_session(request: Request, response: Response, actor: Actor) -> None:
    with session_scope() as session:
        session_id = sessions.start(session, actor)
    response.set_cookie(
        SESSION_COOKIE,
        session_id,
        max_age=int(sessions.MAX_AGE.total_seconds()),
        httponly=True,
        # Lax, not Strict: the browser comes back from the sign-on provider by a cross-site
        # redirect; state changes are POSTs, which Lax keeps same-site, and CSRF guards them too.
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )


def end_session(request: Request, response: Response) -> None:
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        with session_scope() as session:
            sessions.end(session, cookie)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax")


def csrf_for(request: Request) -> tuple[str, str]:
    """(nonce for the cookie, token for the form): the browser's nonce if it has a valid one."""
    nonce = request.cookies.get(CSRF_COOKIE, "")
    if not (16 <= len(nonce) <= 64 and nonce.replace("-", "").replace("_", "").isalnum()):
        nonce = secrets.token_urlsafe(24)
    return nonce, str(_csrf_serializer().dumps(nonce))


def remember_csrf(request: Request, response: Response, nonce: str) -> None:
    if request.cookies.get(CSRF_COOKIE) != nonce:
        response.set_cookie(
            CSRF_COOKIE, nonce, httponly=True, samesite="strict", secure=request.url.scheme == "https", path="/"
        )


async def check_csrf(request: Request) -> None:
    """403 unless the form field or header is our signature of the cookie's nonce."""
    given = request.headers.get(CSRF_HEADER)
    if not given and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        given = value if isinstance(value, str) else None
    nonce = request.cookies.get(CSRF_COOKIE)
    if not given or not nonce:
        raise Forbidden(N_("the form's security token is missing: reload the page and try again"))
    try:
        signed = _csrf_serializer().loads(given)
    except BadData:
        raise Forbidden(N_("the form's security token is not valid: reload the page and try again")) from None
    if not (isinstance(signed, str) and hmac.compare_digest(signed.encode(), nonce.encode())):
        raise Forbidden(N_("the form's security token does not match: reload the page and try again"))


def require(action: str) -> Callable[[Request], Awaitable[None]]:
    """The guard of a state-changing route: an account (401), its role (403), then CSRF (403)."""

    async def guard(request: Request) -> None:
        actor = await run_in_threadpool(signed_in, request)
        if actor is None:
            raise Unauthorised(N_("this action needs you signed in: sign in, or send Authorization: Bearer <token>"))
        actor.require(action)
        await check_csrf(request)

    guard.__name__ = f"require_{action.replace('.', '_')}"
    return guard


def acting(request: Request) -> Actor:
    """The account a guarded route acts as (its guard has checked it)."""
    actor = signed_in(request)
    assert actor is not None, "acting() is for routes behind require()"
    return actor
