"""Who may do what in the web app: open reading on loopback, an operator token for every change.

- Reading (dashboard and preview pages) is open to requests from 127.0.0.1 / ::1 that name
  this machine by a loopback name (or WAVECAST_BASE_URL's host); otherwise it needs the
  operator token too.
- Every state-changing request (approve, launch, pause, resume, cancel, review) needs:
  1. the operator token ``WAVECAST_ADMIN_TOKEN``, as ``Authorization: Bearer <token>`` or the
     cookie the login form sets (signed, HttpOnly, SameSite=Strict, 12 hours; it holds no
     copy of the token and dies when the token changes) -> else 401;
  2. a CSRF token (signed double submit): the page's form field ``csrf_token`` or the
     ``X-CSRF-Token`` header must be our signature of the nonce in the ``wavecast_csrf``
     cookie -> else 403.
  Without ``WAVECAST_ADMIN_TOKEN`` set, no change can be made from the web at all (403).
  Both checks run before anything is read from the database, so a refused request changes
  nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets

from fastapi import Request, Response
from itsdangerous import BadData, URLSafeSerializer, URLSafeTimedSerializer

from campaign.errors import WavecastError
from campaign.settings import get_settings

OPERATOR_COOKIE = "wavecast_operator"
CSRF_COOKIE = "wavecast_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SESSION_SECONDS = 12 * 3600
_OPERATOR = "operator"


class Unauthorised(WavecastError):
    http_status = 401
    title = "Operator token needed"


class Forbidden(WavecastError):
    http_status = 403
    title = "Not allowed"


def _operator_serializer(token: str) -> URLSafeTimedSerializer:
    # The salt carries a digest of the admin token: changing the token logs every browser out.
    salt = "wavecast.operator." + hashlib.sha256(token.encode()).hexdigest()
    return URLSafeTimedSerializer(get_settings().secret_key, salt=salt)


def _csrf_serializer() -> URLSafeSerializer:
    return URLSafeSerializer(get_settings().secret_key, salt="wavecast.csrf")


def token_matches(given: str) -> bool:
    expected = get_settings().admin_token
    return expected is not None and hmac.compare_digest(given.encode(), expected.encode())


def is_operator(request: Request) -> bool:
    """Does the request carry the operator token (header) or a valid operator cookie?"""
    expected = get_settings().admin_token
    if expected is None:
        return False
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return token_matches(value.strip())
    cookie = request.cookies.get(OPERATOR_COOKIE)
    if not cookie:
        return False
    try:
        return bool(_operator_serializer(expected).loads(cookie, max_age=SESSION_SECONDS) == _OPERATOR)
    except BadData:
        return False


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
    """Reading is open on loopback; from another machine (or through a proxy) it takes the operator token."""
    if not ((is_loopback(request) and local_host_name(request) and not proxied(request)) or is_operator(request)):
        raise Unauthorised("this page is open on 127.0.0.1 only; from elsewhere, log in with the operator token")


def operator_cookie() -> str:
    token = get_settings().admin_token
    if token is None:
        raise Forbidden("set WAVECAST_ADMIN_TOKEN to allow operator actions")
    return _operator_serializer(token).dumps(_OPERATOR)


def set_operator_cookie(request: Request, response: Response) -> None:
    response.set_cookie(
        OPERATOR_COOKIE,
        operator_cookie(),
        max_age=SESSION_SECONDS,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )


def clear_operator_cookie(response: Response) -> None:
    response.delete_cookie(OPERATOR_COOKIE, path="/", httponly=True, samesite="strict")


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
        raise Forbidden("the form's security token is missing: reload the page and try again")
    try:
        signed = _csrf_serializer().loads(given)
    except BadData:
        raise Forbidden("the form's security token is not valid: reload the page and try again") from None
    if not (isinstance(signed, str) and hmac.compare_digest(signed.encode(), nonce.encode())):
        raise Forbidden("the form's security token does not match: reload the page and try again")


async def require_operator(request: Request) -> None:
    """The guard of every state-changing route: operator token (401), then CSRF (403)."""
    if get_settings().admin_token is None:
        raise Forbidden("operator actions are switched off: set WAVECAST_ADMIN_TOKEN and restart")
    if not is_operator(request):
        raise Unauthorised("this action needs the operator token: log in, or send Authorization: Bearer <token>")
    await check_csrf(request)
