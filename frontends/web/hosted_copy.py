"""The hosted copy of a newsletter ("view in browser"): one public page per segment.

Every newsletter links, at its top, to ``/v/<campaign>/<wave>/<audience>/<lang>``: the same
URL for every reader of that segment, so it names no one. The page is the newsletter as it was
rendered for the segment, with the neutral words in place of personal fields (never a reader's
first name) and the campaign's website in place of the unsubscribe link (never a reader's
token). It is public and read-only, and answers 404 alike for an unknown campaign, wave,
audience or language and for a wave that has not started yet: a copy goes public with its wave,
not when it is written. Mail programs and browsers may keep it for a few minutes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from urllib.parse import urlsplit

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

from campaign.bundle import Bundle
from campaign.channel_ids import NEWSLETTER
from campaign.errors import InvalidInput
from campaign.newsletter import NewsletterSegment
from campaign.segment import NoSuchSegment, render_segment
from campaign.settings import get_settings
from campaign.template_context import translated
from campaign.timing import resolve_starts
from frontends.web import rendering
from frontends.web.error_pages import public_error
from frontends.web.pages import NoCampaign, current_bundle

router = APIRouter()
MAX_AGE = 300


def hosted_html(bundle: Bundle, wave_id: str, audience_id: str, lang: str, now: dt.datetime) -> str | None:
    """The segment's page without personal fields, or None when there is none to show (yet)."""
    spec = bundle.spec
    starts = resolve_starts(spec)
    if wave_id not in starts or starts[wave_id] > now:
        return None
    try:
        output = render_segment(bundle, wave_id, audience_id, lang, NEWSLETTER)
    except (NoSuchSegment, InvalidInput):
        return None
    if not isinstance(output, NewsletterSegment):
        return None
    # No fields: each gets its fallback ("lectrice, lecteur", "votre organisation"...).
    _subject, page, _text = output.render({}, translated(spec, spec.campaign.website, lang))
    return page


def _headers(etag: str) -> dict[str, str]:
    images = urlsplit(get_settings().base_url)
    origin = f"{images.scheme}://{images.netloc}" if images.netloc else ""
    return {
        # The newsletter runs no script; its images come from this app (/assets/...).
        "Content-Security-Policy": f"default-src 'none'; img-src 'self' data: {origin}; style-src 'unsafe-inline'; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": f"public, max-age={MAX_AGE}",
        "ETag": etag,
    }


@router.get("/v/{campaign_id}/{wave_id}/{audience_id}/{lang}", include_in_schema=False)
async def hosted_copy(request: Request, campaign_id: str, wave_id: str, audience_id: str, lang: str) -> Response:
    try:
        bundle = await current_bundle(request)
    except (InvalidInput, NoCampaign):
        return public_error(request, 404)
    if campaign_id != bundle.spec.campaign.id:
        return public_error(request, 404)
    now = dt.datetime.now(dt.UTC)
    page = await rendering.run(hosted_html, bundle, wave_id, audience_id, lang, now)
    if page is None:
        return public_error(request, 404)
    etag = '"' + hashlib.sha256(page.encode("utf-8")).hexdigest()[:32] + '"'
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=_headers(etag))
    return HTMLResponse(page, headers={**_headers(etag), "Content-Language": lang})
