"""Initiative publication requests: submit, review, list, and what approval makes possible.

The seed's rule: an organisation may ask for its project to be published, and the team
publishes it only after checking that it fits one of the ambitions. A request comes as a
YAML file (validated like campaign.yaml, errors as FILE:LINE:COLUMN); the decision is final,
needs a reason and a name, and leaves an audit row. An approved request becomes an
initiative a wave may highlight, exactly like one written in campaign.yaml.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, cast

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, EmailStr, Field, ValidationError
from sqlalchemy import CursorResult, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from campaign.bundle import load_spec, pydantic_problems
from campaign.db import session_scope, utcnow
from campaign.errors import InvalidInput, Problem, WavecastError, rel
from campaign.initiative_models import (
    APPROVED,
    PENDING,
    REJECTED,
    REQUEST_STATES,
    SUBMITTED,
    InitiativeRequest,
    InitiativeReview,
)
from campaign.load import parse_yaml, read_text
from campaign.model import Campaign, Ident, Initiative, Lang
from campaign.submitted_text import plain_text

Text = Annotated[str, Field(min_length=1, max_length=2000)]


class RequestFile(BaseModel):
    """What an organisation sends: one YAML file."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: Ident | None = Field(default=None, description="Proposed initiative id; derived from the title if absent.")
    organisation: Annotated[str, Field(min_length=1, max_length=300)]
    contact_email: EmailStr
    title: dict[Lang, Annotated[str, Field(min_length=1, max_length=200)]]
    description: dict[Lang, Text]
    ambition: Ident
    link: AnyHttpUrl


@dataclass(frozen=True)
class RequestView:
    """A request as the team sees it in lists and pages: never the contact address."""

    id: int
    campaign_id: str
    initiative_id: str
    organisation: str
    title: dict[str, str]
    description: dict[str, str]
    ambition: str
    url: str
    status: str
    submitted_at: Any
    decided_at: Any
    decided_by: str | None
    reason: str | None
    has_contact: bool

    def as_json(self) -> dict[str, Any]:
        data = self.__dict__.copy()
        for key in ("submitted_at", "decided_at"):
            data[key] = data[key].isoformat() if data[key] is not None else None
        return data


@dataclass(frozen=True)
class Submitted:
    request: RequestView
    warnings: tuple[Problem, ...]


@dataclass(frozen=True)
class Decided:
    request: RequestView
    notify: str | None  # the contact address, handed out once so the team can answer; then deleted


def _view(row: InitiativeRequest) -> RequestView:
    return RequestView(
        id=row.id,
        campaign_id=row.campaign_id,
        initiative_id=row.initiative_id,
        organisation=row.organisation,
        title=dict(row.title),
        description=dict(row.description),
        ambition=row.ambition,
        url=row.url,
        status=row.status,
        submitted_at=row.submitted_at,
        decided_at=row.decided_at,
        decided_by=row.decided_by,
        reason=row.reason,
        has_contact=row.contact_email is not None,
    )


def slug(text: str) -> str:
    """An initiative id from a title: lower-case ASCII letters, digits and dashes."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    value = re.sub(r"[^a-z0-9]+", "-", folded).strip("-")[:63].strip("-")
    return value or "initiative"


def read_request(path: Path, spec: Campaign) -> tuple[RequestFile, str, list[Problem]]:
    """Parse and check a request file against the campaign; raises InvalidInput with every error.

    Returns the request, its initiative id and warnings (an ambition the campaign does not
    have is recorded anyway, so the reviewer sees it and can say why it is refused).
    """
    display = rel(path)
    text, problems = read_text(path, display)
    if text is None:
        raise InvalidInput(problems)
    data, source, problems = parse_yaml(text, display)
    if problems:
        raise InvalidInput(problems)
    if not isinstance(data, dict):
        raise InvalidInput(
            [
                Problem(
                    display,
                    1,
                    1,
                    "a request is a mapping: organisation, contact_email, title, description, ambition, link",
                )
            ]
        )
    try:
        request = RequestFile.model_validate(data)
    except ValidationError as exc:
        raise InvalidInput(pydantic_problems(exc, source)) from None
    found: list[Problem] = []
    for key in ("title", "description"):
        texts = getattr(request, key)
        for lang in spec.campaign.languages:
            if lang not in texts:
                found.append(
                    source.problem(
                        (key,),
                        f"{key}: missing {lang} text (the campaign is written in {', '.join(spec.campaign.languages)})",
                        key=True,
                    )
                )
        for lang in texts:
            if lang not in spec.campaign.languages:
                found.append(source.problem((key, lang), f"{lang} is not one of the campaign's languages", key=True))
    initiative_id = request.id or slug(
        request.title[spec.campaign.languages[0]]
        if spec.campaign.languages[0] in request.title
        else next(iter(request.title.values()))
    )
    if initiative_id in {i.id for i in spec.initiatives}:
        found.append(
            source.problem(
                ("id",) if request.id else ("title",),
                f"campaign.yaml already has an initiative {initiative_id!r}; give this request another id (key `id`)",
            )
        )
    if found:
        raise InvalidInput(found)
    warnings = []
    if request.ambition not in {a.id for a in spec.ambitions}:
        known = ", ".join(a.id for a in spec.ambitions)
        warnings.append(
            source.problem(
                ("ambition",),
                f"ambition {request.ambition!r} is not one of the campaign's "
                f"ambitions ({known}); the request cannot be approved as it is",
                severity="warning",
            )
        )
    return request, initiative_id, warnings


def submit(path: Path, campaign_dir: Path) -> Submitted:
    """Record a request as pending, with the first audit row."""
    spec, _source = load_spec(Path(campaign_dir))
    request, initiative_id, warnings = read_request(Path(path), spec)
    row = InitiativeRequest(
        campaign_id=spec.campaign.id,
        initiative_id=initiative_id,
        organisation=request.organisation.strip(),
        contact_email=str(request.contact_email),
        title=dict(request.title),
        description=dict(request.description),
        ambition=request.ambition,
        url=str(request.link),
        status=PENDING,
        submitted_at=utcnow(),
    )
    try:
        with session_scope() as session:
            session.add(row)
            session.flush()
            session.add(InitiativeReview(request_id=row.id, event=SUBMITTED, by=row.organisation, at=row.submitted_at))
    except IntegrityError:
        raise WavecastError(
            f"{rel(Path(path))}: a request for initiative {initiative_id!r} of campaign {spec.campaign.id!r} exists "
            "already; give this one another id (key `id`)"
        ) from None
    return Submitted(_view(row), tuple(warnings))


def _one_line(value: str, what: str) -> str:
    value = value.strip()
    if not value or any(c in value for c in "\r\n"):
        raise WavecastError(f"{what} must be given, on one line")
    return value


def review(
    request_id: int,
    *,
    approve: bool,
    reason: str,
    by: str,
    campaign_dir: Path | None = None,
    also: Callable[[Session, str], None] | None = None,
) -> Decided:
    """Approve or reject a pending request. A decision is final; approval needs a real ambition.

    `also(session, state)` runs in the decision's transaction: the audit entry commits with it."""
    reason = reason.strip()
    if not reason:
        raise WavecastError("--reason is required: say why, for the audit trail")
    by = _one_line(by, "the reviewer's account")
    with session_scope() as session:
        row = session.get(InitiativeRequest, request_id)
        if row is None:
            raise WavecastError(f"there is no initiative request #{request_id}")
        if row.status != PENDING:
            raise WavecastError(
                f"request #{request_id} was already {row.status} by {row.decided_by} on "
                f"{row.decided_at:%Y-%m-%d}; a decision is final"
            )
        if approve:
            if campaign_dir is None:
                raise WavecastError("approving needs the campaign (--campaign DIR) to check the ambition")
            spec, _source = load_spec(Path(campaign_dir))
            if spec.campaign.id != row.campaign_id:
                raise WavecastError(
                    f"request #{request_id} is for campaign {row.campaign_id!r}, not {spec.campaign.id!r}"
                )
            ambitions = {a.id: a for a in spec.ambitions}
            if row.ambition not in ambitions:
                raise WavecastError(
                    f"request #{request_id} claims ambition {row.ambition!r}, which campaign "
                    f"{spec.campaign.id!r} does not have ({', '.join(ambitions)}); reject it instead"
                )
            if row.initiative_id in {i.id for i in spec.initiatives}:
                raise WavecastError(
                    f"campaign.yaml now has an initiative {row.initiative_id!r} too; rename one of them first"
                )
        notify = row.contact_email
        now = utcnow()
        state = APPROVED if approve else REJECTED
        # Conditional on `pending`: of two reviewers deciding at once, one wins, the other is told.
        result = session.execute(
            update(InitiativeRequest)
            .where(InitiativeRequest.id == request_id, InitiativeRequest.status == PENDING)
            .values(status=state, decided_at=now, decided_by=by, reason=reason, contact_email=None)
            .execution_options(synchronize_session=False)
        )
        changed = cast(CursorResult[Any], result).rowcount
        if changed != 1:
            raise WavecastError(f"request #{request_id} was decided by someone else just now; a decision is final")
        session.add(InitiativeReview(request_id=request_id, event=state, by=by, at=now, reason=reason))
        if also is not None:
            also(session, state)
        session.flush()
        session.refresh(row)
        return Decided(_view(row), notify)


def list_requests(status: str | None = None, campaign_id: str | None = None) -> list[RequestView]:
    if status is not None and status not in REQUEST_STATES:
        raise WavecastError(f"--status must be one of {', '.join(REQUEST_STATES)}, not {status!r}")
    query = select(InitiativeRequest).order_by(InitiativeRequest.id)
    if status is not None:
        query = query.where(InitiativeRequest.status == status)
    if campaign_id is not None:
        query = query.where(InitiativeRequest.campaign_id == campaign_id)
    with session_scope() as session:
        return [_view(row) for row in session.scalars(query)]


def get_request(request_id: int) -> RequestView:
    """One request as the team sees it (never the contact address)."""
    with session_scope() as session:
        row = session.get(InitiativeRequest, request_id)
        if row is None:
            raise WavecastError(f"there is no initiative request #{request_id}")
        return _view(row)


def as_it_appears(request: RequestView) -> list[tuple[str, str]]:
    """The request's texts as newsletters will show them, label by label: plain text (see
    ``campaign.submitted_text``), so the reviewer approves exactly what readers get."""
    shown = [("organisation", plain_text(request.organisation)), ("link", request.url)]
    for lang in sorted(set(request.title) | set(request.description)):
        shown.append((f"title ({lang})", plain_text(str(request.title.get(lang, "")))))
        shown.append((f"description ({lang})", plain_text(str(request.description.get(lang, "")))))
    return shown


def audit_trail(request_id: int | None = None) -> list[dict[str, Any]]:
    """Who did what to which request, when and why, oldest first."""
    query = select(InitiativeReview).order_by(InitiativeReview.at, InitiativeReview.id)
    if request_id is not None:
        query = query.where(InitiativeReview.request_id == request_id)
    with session_scope() as session:
        return [
            {"request": r.request_id, "event": r.event, "by": r.by, "at": r.at, "reason": r.reason}
            for r in session.scalars(query)
        ]


def approved_initiatives(campaign_id: str) -> list[Initiative]:
    """The approved requests of a campaign as initiatives, the same type campaign.yaml gives."""
    query = (
        select(InitiativeRequest)
        .where(InitiativeRequest.campaign_id == campaign_id, InitiativeRequest.status == APPROVED)
        .order_by(InitiativeRequest.id)
    )
    with session_scope() as session:
        return [
            Initiative.model_validate(
                {
                    "id": row.initiative_id,
                    "ambition": row.ambition,
                    "title": row.title,
                    "summary": row.description,
                    "url": row.url,
                    "organisation": row.organisation,
                }
            )
            for row in session.scalars(query)
        ]
