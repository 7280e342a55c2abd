"""Approvals: four eyes (two accounts, not two spellings), voided by edits, kept as an audit trail."""

from __future__ import annotations

from pathlib import Path

import pytest

from accounts import audit
from accounts.roles import Actor, NotAllowed, Role
from campaign.bundle import load_bundle
from campaign.db import get_engine, session_scope
from campaign.errors import WavecastError
from tests.accounts_setup import make_account
from tests.campaign_copy import copy_campaign, edit
from waves.approval import NotApproved, approval_state, approve, require_approval

ANN, BOB = "ann@example.org", "bob@example.org"


@pytest.fixture
def camp(tmp_path: Path, database_url: str) -> Path:
    return copy_campaign(tmp_path)


@pytest.fixture
def ann(camp: Path) -> Actor:
    return make_account(ANN, Role.APPROVER, Role.EDITOR)[0]


@pytest.fixture
def bob(camp: Path) -> Actor:
    return make_account(BOB, Role.APPROVER)[0]


def _two_approvals(camp: Path) -> None:
    edit(camp / "campaign.yaml", "  languages: [nl, fr, de, en]\n", "  languages: [nl, fr, de, en]\n  approvals: 2\n")


def test_one_approval_is_enough_by_default(camp: Path, ann: Actor) -> None:
    bundle = load_bundle(camp)
    with session_scope() as session:
        with pytest.raises(NotApproved, match="0 of 1 approval"):
            require_approval(session, bundle, "first")
        state = approve(session, bundle, "first", ann)
        assert state.valid and state.approvers == (ANN,)
        assert require_approval(session, bundle, "first") == state.content_hash


def test_four_eyes_needs_a_second_account(camp: Path, ann: Actor, bob: Actor) -> None:
    _two_approvals(camp)
    bundle = load_bundle(camp)
    with session_scope() as session:
        assert not approve(session, bundle, "first", ann).valid
    with session_scope() as session, pytest.raises(NotAllowed, match=f"{ANN} already approved"):
        approve(session, bundle, "first", ann)
    with session_scope() as session:
        with pytest.raises(NotApproved, match="1 of 2"):
            require_approval(session, bundle, "first")
        assert approve(session, bundle, "first", bob).approvers == (ANN, BOB)


def test_another_spelling_of_the_same_person_is_the_same_account(camp: Path, ann: Actor) -> None:
    """The bug of the issue: `--by "Ann Peeters"` then `--by "ann peeters "` counted twice."""
    from accounts import directory

    _two_approvals(camp)
    with session_scope() as session:
        assert directory.find(session, " ANN@Example.org ").id == ann.id  # type: ignore[union-attr]
        with pytest.raises(WavecastError, match="already has an account"):
            directory.add(session, "Ann@EXAMPLE.org", [Role.APPROVER])


def test_an_account_without_the_approver_role_cannot_approve(camp: Path) -> None:
    operator = make_account("olga@example.org", Role.OPERATOR, Role.ADMIN)[0]
    with session_scope() as session, pytest.raises(NotAllowed, match="needs the approver role"):
        approve(session, load_bundle(camp), "first", operator)


def test_who_made_the_last_test_send_cannot_approve(camp: Path, ann: Actor, bob: Actor) -> None:
    bundle = load_bundle(camp)
    with session_scope() as session:
        audit.record(session, ann, "wave.proof", "wave", f"{bundle.spec.campaign.id}:first")
    with session_scope() as session, pytest.raises(NotAllowed, match="last test send"):
        approve(session, bundle, "first", ann)
    with session_scope() as session:
        assert approve(session, bundle, "first", bob).valid
    with get_engine().connect() as conn:
        entries = audit.entries(conn, audit.Filter(action="wave.approve"))
    assert [(e["actor"], e["after"]["content_hash"]) for e in entries] == [(BOB, approval_hash(camp))]


def approval_hash(camp: Path) -> str:
    with session_scope() as session:
        return approval_state(session, load_bundle(camp), "first").content_hash


def test_editing_a_message_voids_the_approval(camp: Path, ann: Actor) -> None:
    bundle = load_bundle(camp)
    with session_scope() as session:
        approve(session, bundle, "first", ann)
    edit(camp / "messages" / "hello" / "youth.de.md", "Hello youth (de)", "Hallo Jugend (de)")
    edited = load_bundle(camp)
    with session_scope() as session:
        state = approval_state(session, edited, "first")
        assert not state.valid
        assert state.stale and state.stale[0][0] == ANN
        assert "changed" in state.describe()
        with pytest.raises(NotApproved):
            require_approval(session, edited, "first")
        # The other wave does not use that file: its approval state is its own.
        approve(session, edited, "second", ann)
    edit(camp / "messages" / "hello" / "youth.de.md", "Hallo Jugend (de)", "Hello youth (de)")
    with session_scope() as session:
        assert require_approval(session, load_bundle(camp), "second")


def test_unknown_wave_is_a_clear_error(camp: Path, ann: Actor) -> None:
    bundle = load_bundle(camp)
    with session_scope() as session, pytest.raises(WavecastError, match="unknown wave 'third'"):
        approve(session, bundle, "third", ann)


def test_an_approval_holds_whatever_directory_a_command_runs_from(
    camp: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ann: Actor
) -> None:
    """The hash is of the content, not of how a path is shown: a worker or an operator running
    from another directory must not find the approved wave "changed"."""
    monkeypatch.chdir(camp.parent)
    with session_scope() as session:
        approved = approve(session, load_bundle(camp), "first", ann).content_hash
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    with session_scope() as session:
        assert require_approval(session, load_bundle(camp.resolve()), "first") == approved


def test_the_web_apps_pages_are_not_content_but_the_newsletter_layout_is(
    camp: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ann: Actor
) -> None:
    import shutil

    import waves.content

    layouts = tmp_path / "templates"
    shutil.copytree(waves.content.TEMPLATES_DIR, layouts)
    monkeypatch.setattr(waves.content, "TEMPLATES_DIR", layouts)
    bundle = load_bundle(camp)
    with session_scope() as session:
        approved = approve(session, bundle, "first", ann).content_hash
        (layouts / "web" / "style.css").write_text("body{color:red}", encoding="utf-8")
        assert require_approval(session, bundle, "first") == approved
        (layouts / "newsletter" / "style.css").write_text("body{color:red}", encoding="utf-8")
        with pytest.raises(NotApproved):
            require_approval(session, bundle, "first")
