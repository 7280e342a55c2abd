"""The plan as a calendar feed, ``/plan.ics?lang=L``: the file ``wavecast plan --ics`` writes,
for a team calendar to subscribe to. One feed per language (default: the campaign's first);
a wave is the same event (UID) in each, so subscribing to two languages shows it twice but
re-reading one never duplicates. Read like the preview: open on loopback, else with the
operator token. The campaign is re-read when its files change, so the feed follows edits."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response

from campaign.plan import plan_ics, plan_language
from frontends.web.pages import FriendlyRoute, current_bundle
from frontends.web.security import require_reader

router = APIRouter(route_class=FriendlyRoute)


@router.get("/plan.ics", dependencies=[Depends(require_reader)], summary="The plan as an iCalendar feed")
async def plan_feed(request: Request, lang: str | None = None) -> Response:
    bundle = await current_bundle(request)
    chosen = plan_language(bundle, lang)  # a language the campaign lacks: 400, naming its languages
    return Response(
        plan_ics(bundle, chosen),
        media_type="text/calendar; charset=utf-8",
        headers={
            "Content-Disposition": f'inline; filename="{bundle.spec.campaign.id}.{chosen}.ics"',
            "Cache-Control": "no-cache",
            "X-Content-Type-Options": "nosniff",
        },
    )
