"""Approvals: four eyes, voided by edits, kept as an audit trail."""

from __future__ import annotations

from pathlib import Path

import pytest

from campaign.bundle import load_bundle
from campaign.db import session_scope
from campaign.errors import WavecastError
from tests.campaign_copy import copy_campaign, edit
from waves.approval import NotApproved, approval_state, approve, require_approval


@pytest.fixture
def camp(tmp_path: Path, database_url: str) -> Path:
    return copy_campaign(tmp_path)


def test_one_approval_is_enough_by_default(camp: Path) -> None:
    bundle = load_bundle(camp)
    with session_scope() as session:
        with pytest.raises(NotApproved, match="0 of 1 approval"):
            require_approval(session, bundle, "first")
        state = approve(session, bundle, "first", "Ann")
        assert state.valid and state.approvers == ("Ann",)
        assert require_approval(session, bundle, "first") == state.content_hash


def test_four_eyes_needs_a_second_different_person(camp: Path) -> None:
    edit(camp / "campaign.yaml", "  languages: [nl, fr, de, en]\n", "  languages: [nl, fr, de, en]\n  approvals: 2\n")
    bundle = load_bundle(camp)
    with session_scope() as session:
        assert not approve(session, bundle, "first", "Ann").valid
        with pytest.raises(WavecastError, match="Ann already approved"):
            approve(session, bundle, "first", "Ann")
        with pytest.raises(NotApproved, match="1 of 2"):
            require_approval(session, bundle, "first")
        assert approve(session, bundle, "first", "Bob").approvers == ("Ann", "Bob")


def test_editing_a_message_voids_the_approval(camp: Path) -> None:
    bundle = load_bundle(camp)
    with session_scope() as session:
        approve(session, bundle, "first", "Ann")
    edit(camp / "messages" / "hello" / "youth.de.md", "Hello youth (de)", "Hallo Jugend (de)")
    edited = load_bundle(camp)
    with session_scope() as session:
        state = approval_state(session, edited, "first")
        assert not state.valid
        assert state.stale and state.stale[0][0] == "Ann"
        assert "changed" in state.describe()
        with pytest.raises(NotApproved):
            require_approval(session, edited, "first")
        # The other wave does not use that file: its approval state is its own.
        approve(session, edited, "second", "Ann")
    edit(camp / "messages" / "hello" / "youth.de.md", "Hallo Jugend (de)", "Hello youth (de)")
    with session_scope() as session:
        assert require_approval(session, load_bundle(camp), "second")


def test_unknown_wave_is_a_clear_error(camp: Path) -> None:
    bundle = load_bundle(camp)
    with session_scope() as session, pytest.raises(WavecastError, match="unknown wave 'third'"):
        approve(session, bundle, "third", "Ann")


def test_an_approval_holds_whatever_directory_a_command_runs_from(
    camp: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The hash is of the content, not of how a path is shown: a worker or an operator running
    from another directory must not find the approved wave "changed"."""
    monkeypatch.chdir(camp.parent)
    with session_scope() as session:
        approved = approve(session, load_bundle(camp), "first", "Ann").content_hash
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    with session_scope() as session:
        assert require_approval(session, load_bundle(camp.resolve()), "first") == approved


def test_the_web_apps_pages_are_not_content_but_the_newsletter_layout_is(
    camp: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    import waves.content

    layouts = tmp_path / "templates"
    shutil.copytree(waves.content.TEMPLATES_DIR, layouts)
    monkeypatch.setattr(waves.content, "TEMPLATES_DIR", layouts)
    bundle = load_bundle(camp)
    with session_scope() as session:
        approved = approve(session, bundle, "first", "Ann").content_hash
        (layouts / "web" / "style.css").write_text("body{color:red}", encoding="utf-8")
        assert require_approval(session, bundle, "first") == approved
        (layouts / "newsletter" / "style.css").write_text("body{color:red}", encoding="utf-8")
        with pytest.raises(NotApproved):
            require_approval(session, bundle, "first")
