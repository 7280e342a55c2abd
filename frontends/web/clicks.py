"""The public click redirect: ``GET /c/{token}`` adds one to a counter and sends the reader on.

It reads nothing from the request but the token (and the browser's language, for a page in
it) and stores nothing about it: no address, no time, no cookie, no user agent. The link comes
from the signed token only, so the route is not an open redirect. A token we did not sign gets
the public 404 page (``frontends.web.error_pages``), never a redirect.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.exc import SQLAlchemyError

from campaign.clicks import InvalidClick, count_click, read_token
from campaign.errors import WavecastError
from frontends.web.error_pages import public_error

log = logging.getLogger(__name__)
router = APIRouter()

_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex"}


@router.get(
    "/c/{token}",
    summary="Count a click on a campaign link and redirect to it",
    responses={302: {"description": "Redirect to the link"}, 404: {"description": "Not a link of ours"}},
)
def follow(token: str, request: Request) -> Response:
    try:
        click = read_token(token)
    except InvalidClick:
        return public_error(request, 404)
    try:
        count_click(click)
    except (WavecastError, SQLAlchemyError) as exc:
        # The reader still gets where they were going; a lost count is not worth a broken link.
        log.error("click on %s/%s not counted: %s", click.campaign, click.wave, exc)
    return RedirectResponse(click.link, status_code=302, headers=_HEADERS)
