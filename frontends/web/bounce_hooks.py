"""The providers' webhooks: Amazon SES (through SNS) and Mailgun report bounces and complaints.

``POST /hooks/ses`` and ``POST /hooks/mailgun`` have no session and no CSRF token: the
provider's signature is the authentication, and it is checked (waves/bounces/sns.py,
waves/bounces/mailgun.py) before the database is touched. Answers are JSON:
- 200 ``{"outcome": ...}``: taken (the intake's address-free summary, or why nothing was recorded);
- 400 malformed, 403 a bad or missing signature (or an unknown topic, a stale timestamp),
  404 the hook is not configured, 413 a body over MAX_BODY_BYTES;
- 502/503 when AWS could not be reached, or 500 when recording failed: the provider retries.

Checking a signature may fetch a certificate and recording is database work, both blocking:
they run in the thread pool, off the event loop.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from waves.bounces import intake, mailgun, sns
from waves.bounces.webhook import Received, Refused

log = logging.getLogger(__name__)
router = APIRouter()

MAX_BODY_BYTES = 256 * 1024  # an SES notification with all headers is a few KiB; Mailgun's too
HEADERS = {"Cache-Control": "no-store"}


@router.post("/hooks/ses", include_in_schema=False)
async def ses_hook(request: Request) -> JSONResponse:
    return await _answer(request, "ses", sns.receive)


@router.post("/hooks/mailgun", include_in_schema=False)
async def mailgun_hook(request: Request) -> JSONResponse:
    return await _answer(request, "mailgun", mailgun.receive)


async def _answer(request: Request, source: str, receive: Callable[[bytes], Received]) -> JSONResponse:
    try:
        body = await _body(request)
        outcome = await run_in_threadpool(_take, source, receive, body)
    except Refused as refused:
        log.info("%s hook: refused (%s): %s", source, refused.status, refused.reason)
        return JSONResponse({"error": refused.reason}, status_code=refused.status, headers=HEADERS)
    except Exception:  # the request was fine; we were not. The provider retries a 5xx.
        log.exception("%s hook: the report could not be recorded", source)
        error = "the report could not be recorded; it is taken when the provider sends it again"
        return JSONResponse({"error": error}, status_code=500, headers=HEADERS)
    log.info("%s hook: %s", source, outcome)
    return JSONResponse({"outcome": outcome}, headers=HEADERS)


def _take(source: str, receive: Callable[[bytes], Received], body: bytes) -> str:
    received = receive(body)
    if not received.reports:
        return received.note
    return intake.take(received.reports, source=source).summary()


async def _body(request: Request) -> bytes:
    """The body, read no further than MAX_BODY_BYTES."""
    too_big = Refused(413, f"the body is over {MAX_BODY_BYTES // 1024} KiB: not a bounce or complaint report")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise too_big
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise too_big
    return bytes(body)
