"""Approvals: a wave is sent only when enough different accounts approved its current content.

Four eyes for real: an approval is bound to an account (its id, not a typed name) and to the
wave's content hash; `approvals: 2` needs two different accounts holding the approver role;
the account that made the wave's last test send, or edited its content in the web app, is not
one of them. Each approval is one audit entry, in the same transaction.

The front ends approve through `approve_after_doctor`: the bulk-sender preflight runs first,
and a failing check refuses the approval unless the approver states why to go past it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts import audit
from accounts.roles import Actor, NotAllowed
from campaign.bundle import Bundle
from campaign.db import utcnow
from campaign.errors import WavecastError
from campaign.phrase import Phrase, in_turn
from campaign.settings import get_settings
from waves import doctor
from waves.content import wave_content_hash
from waves.models import Approval

OVERRIDE_MAX = 500


class NotApproved(WavecastError):
    """The wave's current content lacks the approvals the campaign requires."""


class DoctorFailed(WavecastError):
    """The preflight failed and the approver gave no reason to go past it."""

    def __init__(self, wave_id: str, failed: list[doctor.Check], how_to_override: str) -> None:
        self.failed = failed
        checks = in_turn([Phrase("%(check)s: %(found)s", check=c.name, found=c.found) for c in failed])
        super().__init__(
            Phrase(
                "wave %(wave)s is not approved: the doctor found %(count)d failing check(s): %(checks)s. "
                "Fix them (`wavecast doctor` says how), or give the reason to go past them (%(how)s)",
                wave=repr(wave_id),
                count=len(failed),
                checks=checks,
                how=how_to_override,
            )
        )


@dataclass(frozen=True)
class ApprovalState:
    wave_id: str
    content_hash: str
    required: int
    approvers: tuple[str, ...]  # the approving accounts' addresses, for the current hash
    stale: tuple[tuple[str, str, dt.datetime], ...]  # (who, hash, when) for older content

    @property
    def valid(self) -> bool:
        return len(self.approvers) >= self.required

    def describe(self) -> str:
        if self.valid:
            return Phrase("approved by %(who)s", who=", ".join(self.approvers))
        if self.stale:
            return Phrase(
                "%(have)d of %(required)d approval(s) for the current content "
                "(earlier approvals were for content that has since changed)",
                have=len(self.approvers),
                required=self.required,
            )
        return Phrase(
            "%(have)d of %(required)d approval(s) for the current content",
            have=len(self.approvers),
            required=self.required,
        )


def _wave_or_error(bundle: Bundle, wave_id: str) -> None:
    if wave_id not in {w.id for w in bundle.spec.waves}:
        known = ", ".join(w.id for w in bundle.spec.waves)
        raise WavecastError(f"unknown wave {wave_id!r}; the campaign's waves are: {known}")


def approval_state(session: Session, bundle: Bundle, wave_id: str) -> ApprovalState:
    _wave_or_error(bundle, wave_id)
    content_hash = wave_content_hash(bundle, wave_id)
    rows = session.scalars(
        select(Approval)
        .where(Approval.campaign_id == bundle.spec.campaign.id, Approval.wave_id == wave_id)
        .order_by(Approval.approved_at)
    ).all()
    # One account counts once; an approval without an account (a typed name, before 0010) not at all.
    current = {r.account_id: r.approved_by for r in rows if r.content_hash == content_hash and r.account_id is not None}
    stale = tuple((r.approved_by, r.content_hash, r.approved_at) for r in rows if r.content_hash != content_hash)
    return ApprovalState(wave_id, content_hash, bundle.spec.campaign.approvals, tuple(current.values()), stale)


def wave_key(bundle: Bundle, wave_id: str) -> str:
    """How the audit log names a wave (the same as its run's key)."""
    return campaign_wave_key(bundle.spec.campaign.id, wave_id)


def campaign_wave_key(campaign_id: str, wave_id: str) -> str:
    return f"{campaign_id}:{wave_id}"


def _approver_ids(session: Session, bundle: Bundle, wave_id: str, content_hash: str) -> set[int]:
    rows = session.scalars(
        select(Approval.account_id).where(
            Approval.campaign_id == bundle.spec.campaign.id,
            Approval.wave_id == wave_id,
            Approval.content_hash == content_hash,
        )
    )
    return {r for r in rows if r is not None}


def authors(session: Session, bundle: Bundle, wave_id: str) -> set[int]:
    """The accounts that may not approve the wave: who made its last test send, who edited it."""
    key = wave_key(bundle, wave_id)
    last_proof = audit.last_by(session, "wave.proof", key)
    found = audit.accounts_that(session, "wave.edit", key)
    if last_proof is not None and last_proof.account_id is not None:
        found.add(last_proof.account_id)
    return found


def approve(
    session: Session, bundle: Bundle, wave_id: str, by: Actor, *, doctor_override: str | None = None
) -> ApprovalState:
    """Record the account's approval of the wave's current content; one account counts once.

    This records; it does not run the preflight (`approve_after_doctor` does, for the front ends).
    `doctor_override`: the approver's reason for going past failing checks, and which ones."""
    by.require("wave.approve")
    state = approval_state(session, bundle, wave_id)
    if by.id in authors(session, bundle, wave_id):
        raise NotAllowed(
            Phrase(
                "%(who)s made the last test send of wave %(wave)s or edited it, so cannot approve it "
                "(four eyes: someone else approves)",
                who=by.email,
                wave=repr(wave_id),
            )
        )
    if by.id in _approver_ids(session, bundle, wave_id, state.content_hash):
        if state.valid:
            return state
        raise NotAllowed(
            Phrase(
                "%(who)s already approved this content of wave %(wave)s; "
                "the campaign needs %(required)d different accounts (four eyes)",
                who=by.email,
                wave=repr(wave_id),
                required=state.required,
            )
        )
    session.add(
        Approval(
            campaign_id=bundle.spec.campaign.id,
            wave_id=wave_id,
            content_hash=state.content_hash,
            approved_by=by.email,
            account_id=by.id,
            approved_at=utcnow(),
            doctor_override=doctor_override,
        )
    )
    after = {"content_hash": state.content_hash, "doctor_override": doctor_override}
    audit.record(session, by, "wave.approve", "wave", wave_key(bundle, wave_id), after=after)
    session.flush()
    return approval_state(session, bundle, wave_id)


def approve_after_doctor(
    session: Session,
    bundle: Bundle,
    wave_id: str,
    by: Actor,
    override: str | None = None,
    *,
    how_to_override: str = '--override-doctor "REASON"',
) -> ApprovalState:
    """Run the preflight, then approve. A failing check refuses (DoctorFailed names each one)
    unless `override` gives the reason to go past them; the reason and the failing checks'
    names go into the audit trail. A reason given when nothing fails is not recorded."""
    by.require("wave.approve")  # before the preflight: a refused account learns nothing from it
    reason = (override or "").strip()
    if len(reason) > OVERRIDE_MAX or any(c in reason for c in "\r\n"):
        raise WavecastError(
            Phrase("the reason to override the doctor is one line of at most %(most)d characters", most=OVERRIDE_MAX)
        )
    _wave_or_error(bundle, wave_id)
    failed = doctor.failing(doctor.run(bundle, get_settings()))
    if failed and not reason:
        raise DoctorFailed(wave_id, failed, how_to_override)
    note = f"{reason} (failing: {', '.join(c.name for c in failed)})" if failed else None
    return approve(session, bundle, wave_id, by, doctor_override=note)


def require_approval(session: Session, bundle: Bundle, wave_id: str) -> str:
    """The wave's content hash, if approved; otherwise NotApproved saying what is missing."""
    state = approval_state(session, bundle, wave_id)
    if not state.valid:
        raise NotApproved(
            Phrase(
                "wave %(wave)s is not approved: %(state)s; run `wavecast approve`",
                wave=repr(wave_id),
                state=state.describe(),
            )
        )
    return state.content_hash
