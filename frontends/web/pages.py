"""Page rendering for the web app: the Jinja environment, the campaign being shown, and errors.

Pages come from ``templates/web`` with autoescape on. Every page is self-contained (inline
CSS, a few lines of inline JS allowed by a per-response nonce): the machines it runs on may
have no internet, and a page must never ask another site for anything.

Errors a user can cause never become a 500 or a traceback: ``FriendlyRoute`` turns
``WavecastError`` into a 4xx page (or JSON under /api/), and a campaign that does not load
shows its problems with file and line.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable, Coroutine
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from fastapi import Request, Response
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException

from campaign.bundle import Bundle, load_spec
from campaign.db import DatabaseError
from campaign.errors import InvalidInput, Problem, WavecastError
from campaign.model import Campaign
from frontends.web import i18n, rendering
from frontends.web.i18n import N_
from frontends.web.security import csrf_for, remember_csrf, shown_account
from frontends.web.templates import render
from waves.bundles import bundle_at


def page(request: Request, template: str, *, status: int = 200, **context: Any) -> HTMLResponse:
    """A full HTML page with the security headers, the CSRF token and a script nonce."""
    nonce = secrets.token_urlsafe(16)
    csrf_nonce, csrf_token = csrf_for(request)
    account = shown_account(request)
    language = interface_language(request)
    body = render(
        template,
        language=language,
        request=request,
        nonce=nonce,
        csrf_token=csrf_token,
        account=account,
        operator=account is not None,
        path=request.url.path,
        **context,
    )
    response = HTMLResponse(body, status_code=status, headers=headers(nonce))
    response.headers["Content-Language"] = language
    response.headers["Vary"] = "Accept-Language, Cookie"
    remember_csrf(request, response, csrf_nonce)
    return response


def interface_language(request: Request) -> str:
    """The signed-in account's language, else the browser's (Accept-Language), else English."""
    account = shown_account(request)
    return i18n.negotiate(account.language if account else None, request.headers.get("accept-language"))


def headers(nonce: str | None = None) -> dict[str, str]:
    script = f"'nonce-{nonce}'" if nonce else "'none'"
    return {
        "Content-Security-Policy": (
            f"default-src 'none'; script-src {script}; style-src 'unsafe-inline'; img-src 'self' data:; "
            "connect-src 'self'; frame-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
        ),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
        "Cache-Control": "no-store",
    }


def error_page(
    request: Request, status: int, title: str, message: str = "", problems: list[Problem] | tuple[Problem, ...] = ()
) -> Response:
    """A friendly error: JSON under /api/, an HTML page elsewhere."""
    if request.url.path.startswith("/api/"):
        detail: dict[str, Any] = {"error": title, "detail": message}
        if problems:
            detail["problems"] = [str(p) for p in problems]
        return JSONResponse(detail, status_code=status, headers={"Cache-Control": "no-store"})
    return page(request, "error.html", status=status, title=title, message=message, problems=list(problems))


def campaign_dir(request: Request) -> Path | None:
    value = getattr(request.app.state, "campaign_dir", None)
    return Path(value) if value is not None else None


class NoCampaign(WavecastError):
    """The app was started without a campaign directory."""


class NotFound(WavecastError):
    """A wave, request or file the page asks for does not exist."""

    http_status = 404
    title = N_("Not found")


async def current_bundle(request: Request) -> Bundle:
    """The campaign being shown, reloaded when one of its files changed; approved initiatives added.

    Loading renders every message, so it runs in the rendering pool (``frontends.web.rendering``),
    shared with the requests that need it at the same time, never longer than a page may wait.
    The wait is awaited, never held in a request thread: however many pages wait for a heavy
    campaign, the threads that serve ``/u/...``, the images and the database pages stay free.
    Raises InvalidInput (shown as an error panel) when the files do not load.
    """
    return await rendering.result(_loading(request), shared=True)


def campaign_spec(request: Request) -> Campaign:
    """campaign.yaml alone, for pages that need the campaign's id or time zone but no message.

    It renders nothing, so such a page (the live status) answers while the messages render.
    """
    return load_spec(Path(_root(request)))[0]


def _root(request: Request) -> str:
    root = campaign_dir(request)
    if root is None:
        raise NoCampaign(N_("no campaign is loaded: start the app with `wavecast serve DIR`"))
    return str(root)


def _loading(request: Request) -> Future[Bundle]:
    root = _root(request)
    return rendering.shared(root, lambda: _load(root))


def _load(root: str) -> Bundle:
    return bundle_at(root)


# The states a wave, a run or a schedule is shown in (badges), translated where shown.
STATE_WORDS = (
    N_("draft"),
    N_("awaiting approval"),
    N_("approved"),
    N_("scheduled"),
    N_("launched"),
    N_("missed"),
    N_("blocked"),
    N_("launching"),
    N_("running"),
    N_("paused"),
    N_("cancelled"),
    N_("done"),
    N_("pass"),
    N_("warn"),
    N_("fail"),
    N_("pending"),
    N_("rejected"),
    N_("sending"),
    N_("sent"),
    N_("failed"),
    N_("skipped"),
)


def said(exc: Exception) -> str:
    """An error's message as raised: a Phrase or a marked message stays one, for the page to
    say in its language."""
    return exc.args[0] if len(exc.args) == 1 and isinstance(exc.args[0], str) else str(exc)


class FriendlyRoute(APIRoute):
    """Maps the errors users can cause to 4xx responses, on every route of a router."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                return await handler(request)
            except HTTPException:
                raise
            except asyncio.CancelledError:
                # The server is stopping (SIGTERM) and gave up waiting for this request, a render
                # perhaps: the request ends with a page, not a traceback in the server's log.
                return error_page(request, 503, N_("The server is stopping"), N_("Reload the page in a moment."))
            except NoCampaign as exc:
                return error_page(request, 404, N_("No campaign"), said(exc))
            except InvalidInput as exc:
                return error_page(
                    request,
                    422,
                    N_("The campaign files have problems"),
                    N_("Fix these and reload the page."),
                    exc.problems,
                )
            except DatabaseError as exc:
                return error_page(request, 503, N_("Database unavailable"), said(exc))
            except WavecastError as exc:
                status = getattr(exc, "http_status", 400)
                title = getattr(exc, "title", N_("That did not work"))
                response = error_page(request, status, title, said(exc))
                if status == 401:
                    response.headers["WWW-Authenticate"] = 'Bearer realm="wavecast"'
                return response

        return guarded
