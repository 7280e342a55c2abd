"""Initiative reviews by accounts: the approver role, four eyes, one audit entry each.

The account that submitted a request (an editor drafting it for an organisation) may not be
the one that reviews it."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from accounts import audit
from accounts.roles import Actor, NotAllowed
from campaign.initiative_requests import Decided, review


def review_as(actor: Actor, request_id: int, *, approve: bool, reason: str, campaign_dir: Path | None) -> Decided:
    actor.require("initiative.review")

    def check_and_record(session: Session, state: str) -> None:
        if actor.id in audit.accounts_that(session, "initiative.submit", str(request_id)):
            raise NotAllowed(f"{actor.email} submitted request #{request_id}, so cannot review it (four eyes)")
        audit.record(
            session,
            actor,
            "initiative.review",
            "initiative",
            str(request_id),
            before={"status": "pending"},
            after={"status": state, "reason": reason.strip()},
        )

    return review(
        request_id, approve=approve, reason=reason, by=actor.email, campaign_dir=campaign_dir, also=check_and_record
    )
