"""The public click redirect: ``GET /c/{token}`` adds one to a counter and sends the reader on.

It reads nothing from the request but the token and stores nothing about it: no address, no
time, no cookie, no user agent. The link comes from the signed token only, so the route is
not an open redirect. A token we did not sign gets a short 404 page, never a redirect.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.exc import SQLAlchemyError

from campaign.clicks import InvalidClick, count_click, read_token
from campaign.errors import WavecastError

log = logging.getLogger(__name__)
router = APIRouter()

_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex"}
_NOT_FOUND = (
    '<!doctype html><html lang="en"><head><meta charset="utf-8">'
    '<meta name="viewport" content="width=device-width, initial-scale=1"><title>Link not found</title></head>'
    "<body><main><h1>Link not found</h1><p>This link is not valid. Nothing was recorded.</p></main></body></html>"
)


@router.get(
    "/c/{token}",
    summary="Count a click on a campaign link and redirect to it",
    responses={302: {"description": "Redirect to the link"}, 404: {"description": "Not a link of ours"}},
)
def follow(token: str) -> Response:
    try:
        click = read_token(token)
    except InvalidClick:
        return HTMLResponse(_NOT_FOUND, status_code=404, headers=_HEADERS)
    try:
        count_click(click)
    except (WavecastError, SQLAlchemyError) as exc:
        # The reader still gets where they were going; a lost count is not worth a broken link.
        log.error("click on %s/%s not counted: %s", click.campaign, click.wave, exc)
    return RedirectResponse(click.link, status_code=302, headers=_HEADERS)
