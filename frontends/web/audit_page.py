"""The audit log in the web app: every state change, newest first, filtered by person, wave, action.

Signed-in accounts only (any role), even on loopback: the log names the team's people."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from accounts import audit
from accounts.roles import NotSignedIn
from campaign.db import get_engine
from frontends.web.i18n import N_
from frontends.web.pages import FriendlyRoute, page
from frontends.web.security import signed_in

router = APIRouter(route_class=FriendlyRoute)
FIELD_MAX = 320


def _field(request: Request, name: str) -> str | None:
    value = request.query_params.get(name, "").strip()[:FIELD_MAX]
    return value or None


@router.get("/audit", summary="The audit log, filtered by person, wave and action")
def audit_page(request: Request) -> Response:
    if signed_in(request) is None:
        raise NotSignedIn(N_("the audit log names the team's people: sign in to read it"))
    where = audit.Filter(
        actor=_field(request, "person"), object_id=_field(request, "wave"), action=_field(request, "action")
    )
    with get_engine().connect() as conn:
        entries = audit.entries(conn, where)
        intact = audit.verify(conn)
    return page(request, "audit.html", title=N_("Audit log"), entries=entries, where=where, intact=intact)
