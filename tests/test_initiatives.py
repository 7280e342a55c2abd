"""Initiative publication requests: submission checks, review rules, audit trail, and validation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from accounts.roles import Role
from campaign.bundle import load_bundle
from campaign.db import get_engine
from campaign.errors import InvalidInput, WavecastError
from campaign.initiative_models import InitiativeRequest
from campaign.initiative_requests import (
    approved_initiatives,
    audit_trail,
    list_requests,
    review,
    submit,
)
from campaign.segment import render_segment
from tests.accounts_setup import make_account, sign_in
from tests.campaign_copy import MINIMAL, copy_campaign, edit, line_of
from tests.cli import wavecast
from tests.conftest import reset_caches
from waves.assembly import assemble

REQUEST = """\
organisation: Code for Belgium
contact_email: jane.doe@example.net
title:
  nl: Open data voor iedereen
  fr: Données ouvertes pour tous
  de: Offene Daten für alle
  en: Open data for everyone
description:
  nl: Een project dat open data uitlegt.
  fr: Un projet qui explique les données ouvertes.
  de: Ein Projekt, das offene Daten erklärt.
  en: A project that explains open data.
ambition: skills
link: https://example.org/open-data
"""


def request_file(tmp_path: Path, text: str = REQUEST, name: str = "request.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_submit_records_a_pending_request_with_an_audit_row(database_url: str, tmp_path: Path) -> None:
    done = submit(request_file(tmp_path), MINIMAL)
    assert done.request.status == "pending"
    assert done.request.initiative_id == "open-data-voor-iedereen"  # from the first language's title
    assert done.request.campaign_id == "mini"
    assert done.request.has_contact
    assert not done.warnings
    [event] = audit_trail(done.request.id)
    assert (event["event"], event["by"]) == ("submitted", "Code for Belgium")


def test_submit_reports_errors_with_file_line_and_column(database_url: str, tmp_path: Path) -> None:
    bad = REQUEST.replace("contact_email: jane.doe@example.net", "contact_email: not-an-address").replace(
        "link: https://example.org/open-data", "link: somewhere"
    )
    path = request_file(tmp_path, bad)
    with pytest.raises(InvalidInput) as caught:
        submit(path, MINIMAL)
    found = {(p.line, p.message.split(":")[0]) for p in caught.value.problems}
    assert (line_of(path, "contact_email"), "contact_email") in found
    assert (line_of(path, "link:"), "link") in found
    assert all(p.file.endswith("request.yaml") and p.column >= 1 for p in caught.value.problems)
    with get_engine().connect() as conn:
        assert conn.scalar(select(func.count()).select_from(InitiativeRequest)) == 0


def test_submit_needs_every_campaign_language(database_url: str, tmp_path: Path) -> None:
    path = request_file(tmp_path, REQUEST.replace("  de: Ein Projekt, das offene Daten erklärt.\n", ""))
    with pytest.raises(InvalidInput) as caught:
        submit(path, MINIMAL)
    [problem] = caught.value.problems
    assert problem.line == line_of(path, "description:")
    assert "missing de text" in problem.message


def test_unknown_keys_and_an_id_taken_by_campaign_yaml_are_refused(database_url: str, tmp_path: Path) -> None:
    path = request_file(tmp_path, "id: code-school\nphone: 123\n" + REQUEST)
    with pytest.raises(InvalidInput) as caught:
        submit(path, MINIMAL)
    assert "unknown key 'phone'" in str(caught.value)
    path = request_file(tmp_path, "id: code-school\n" + REQUEST)
    with pytest.raises(InvalidInput, match="already has an initiative 'code-school'"):
        submit(path, MINIMAL)


def test_a_second_request_for_the_same_id_is_refused(database_url: str, tmp_path: Path) -> None:
    submit(request_file(tmp_path), MINIMAL)
    with pytest.raises(WavecastError, match="exists already"):
        submit(request_file(tmp_path), MINIMAL)


def test_unknown_ambition_is_recorded_with_a_warning_and_cannot_be_approved(database_url: str, tmp_path: Path) -> None:
    done = submit(request_file(tmp_path, REQUEST.replace("ambition: skills", "ambition: space-travel")), MINIMAL)
    [warning] = done.warnings
    assert warning.severity == "warning" and "space-travel" in warning.message
    with pytest.raises(WavecastError, match="does not have"):
        review(done.request.id, approve=True, reason="fits", by="Ann", campaign_dir=MINIMAL)
    assert list_requests("pending")[0].id == done.request.id
    decided = review(done.request.id, approve=False, reason="no such ambition", by="Ann", campaign_dir=MINIMAL)
    assert decided.request.status == "rejected"


def test_approval_needs_a_reason_and_a_name(database_url: str, tmp_path: Path) -> None:
    request_id = submit(request_file(tmp_path), MINIMAL).request.id
    with pytest.raises(WavecastError, match="--reason"):
        review(request_id, approve=True, reason="  ", by="Ann", campaign_dir=MINIMAL)
    with pytest.raises(WavecastError, match="reviewer"):
        review(request_id, approve=True, reason="fits", by="Ann\nEvil", campaign_dir=MINIMAL)
    assert list_requests("pending")[0].id == request_id


def test_a_decision_is_final_and_the_audit_trail_keeps_who_when_why(database_url: str, tmp_path: Path) -> None:
    request_id = submit(request_file(tmp_path), MINIMAL).request.id
    decided = review(request_id, approve=True, reason="fits ambition 1", by="Ann", campaign_dir=MINIMAL)
    assert decided.notify == "jane.doe@example.net"  # handed out once, to answer the organisation
    assert decided.request.status == "approved" and not decided.request.has_contact
    for approve in (True, False):
        with pytest.raises(WavecastError, match="already approved by Ann"):
            review(request_id, approve=approve, reason="again", by="Bob", campaign_dir=MINIMAL)
    events = [(e["event"], e["by"], e["reason"]) for e in audit_trail(request_id)]
    assert events == [("submitted", "Code for Belgium", None), ("approved", "Ann", "fits ambition 1")]
    assert all(e["at"].tzinfo is not None for e in audit_trail(request_id))
    with get_engine().connect() as conn:
        assert conn.scalar(select(InitiativeRequest.contact_email)) is None


def test_approval_is_checked_against_the_requests_campaign(database_url: str, tmp_path: Path) -> None:
    request_id = submit(request_file(tmp_path), MINIMAL).request.id
    other = copy_campaign(tmp_path)
    edit(other / "campaign.yaml", "id: mini", "id: other")
    with pytest.raises(WavecastError, match="is for campaign 'mini'"):
        review(request_id, approve=True, reason="fits", by="Ann", campaign_dir=other)


def test_list_filters_by_status_and_never_shows_the_contact(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = submit(request_file(tmp_path), MINIMAL).request.id
    submit(request_file(tmp_path, "id: second\n" + REQUEST), MINIMAL)
    review(first, approve=False, reason="duplicate", by="Ann")
    assert [r.initiative_id for r in list_requests("pending")] == ["second"]
    assert [r.id for r in list_requests("rejected")] == [first]
    for args in (("initiatives", "list"), ("initiatives", "list", "--json")):
        result = wavecast(capsys, *args)
        assert result.code == 0 and "second" in result.out
        assert "jane.doe" not in result.out
    assert wavecast(capsys, "initiatives", "list", "--status", "weird").code == 1


def test_cli_submit_review_list(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    editor = make_account("eddie@example.org", Role.EDITOR, Role.APPROVER)[1]
    ann = make_account("ann@example.org", Role.APPROVER)[1]
    sign_in(monkeypatch, editor)
    path = request_file(tmp_path)
    result = wavecast(capsys, "initiatives", "submit", str(path), "--campaign", str(MINIMAL))
    assert result.code == 0, result.err
    assert "request #1 recorded as pending" in result.out
    result = wavecast(capsys, "initiatives", "review", "1", "--approve", "--reject", "--reason", "x")
    assert result.code == 1 and "exactly one" in result.err
    review_1 = ("initiatives", "review", "1", "--approve", "--reason", "fits", "--campaign", str(MINIMAL))
    result = wavecast(capsys, *review_1)  # four eyes: who submitted it does not review it
    assert result.code == 4 and "eddie@example.org submitted request #1" in result.err
    sign_in(monkeypatch, ann)
    result = wavecast(capsys, *review_1)
    assert result.code == 0, result.err
    assert "approved by ann@example.org" in result.out and "jane.doe@example.net" in result.out
    result = wavecast(capsys, "initiatives", "review", "1", "--reject", "--reason", "no")
    assert result.code == 1 and "a decision is final" in result.err
    sign_in(monkeypatch, editor)
    result = wavecast(
        capsys, "initiatives", "submit", str(request_file(tmp_path, "title: [")), "--campaign", str(MINIMAL)
    )
    assert result.code == 1 and "request.yaml:1:" in result.err


# ---------------------------------------------------------------------------- validation


def _wave_highlights(tmp_path: Path, initiative: str) -> Path:
    camp = copy_campaign(tmp_path)
    edit(camp / "campaign.yaml", "initiatives: [code-school]", f"initiatives: [code-school, {initiative}]")
    return camp


def test_validate_accepts_an_approved_initiative_and_renders_it(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    camp = _wave_highlights(tmp_path, "open-data")
    result = wavecast(capsys, "validate", str(camp))
    assert result.code == 1
    assert f"campaign.yaml:{line_of(camp / 'campaign.yaml', 'open-data')}:" in result.err
    assert "unknown initiative 'open-data'" in result.err
    request_id = submit(request_file(tmp_path, "id: open-data\n" + REQUEST), camp).request.id
    review(request_id, approve=True, reason="fits", by="Ann", campaign_dir=camp)
    result = wavecast(capsys, "validate", str(camp))
    assert result.code == 0, result.err
    [initiative] = approved_initiatives("mini")
    assert (initiative.id, initiative.ambition, initiative.title["fr"]) == (
        "open-data",
        "skills",
        "Données ouvertes pour tous",
    )
    merged = assemble(load_bundle(camp))
    assert merged.spec.initiative("open-data").organisation == "Code for Belgium"
    html = render_segment(merged, "first", "youth", "fr", "newsletter").html
    assert "École de code" in html and "Données ouvertes pour tous" in html
    # The commands that approve, plan and send see the approved initiative too.
    sign_in(monkeypatch, make_account("ann@example.org", Role.APPROVER)[1])
    assert wavecast(capsys, "approve", str(camp), "--wave", "first").code == 0
    planned = wavecast(capsys, "plan", str(camp), "--json")
    assert {"id": "open-data", "ambition": "skills"} in json.loads(planned.out)[0]["initiatives"]


def test_a_rejected_request_cannot_be_highlighted(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    camp = _wave_highlights(tmp_path, "open-data")
    request_id = submit(request_file(tmp_path, "id: open-data\n" + REQUEST), camp).request.id
    review(request_id, approve=False, reason="off topic", by="Ann")
    result = wavecast(capsys, "validate", str(camp))
    assert result.code == 1 and "unknown initiative 'open-data'" in result.err


def test_validate_needs_no_database_and_creates_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "absent.db"
    monkeypatch.setenv("WAVECAST_DATABASE_URL", f"sqlite:///{target}")
    reset_caches()
    assert wavecast(capsys, "validate", str(MINIMAL)).code == 0
    result = wavecast(capsys, "validate", str(_wave_highlights(tmp_path, "open-data")))
    assert result.code == 1 and "unknown initiative 'open-data'" in result.err
    assert not target.exists()


def test_an_unreachable_database_is_a_warning_not_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("WAVECAST_DATABASE_URL", "postgresql://nobody@127.0.0.1:9/none?connect_timeout=2")
    reset_caches()
    result = wavecast(capsys, "validate", str(_wave_highlights(tmp_path, "open-data")))
    assert result.code == 1
    assert "warning: cannot read approved initiative requests" in result.err
    assert "only the initiatives of campaign.yaml count" in result.err
    assert "unknown initiative 'open-data'" in result.err
    assert wavecast(capsys, "validate", str(MINIMAL)).code == 0  # no lookup needed: no warning either


def test_loading_reads_no_database_and_assembling_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The loader reads files only: a wave naming an initiative campaign.yaml lacks loads, even
    with a database that cannot be reached; the wave's assembly is what looks it up and refuses it."""
    monkeypatch.setenv("WAVECAST_DATABASE_URL", "postgresql://nobody@127.0.0.1:9/none?connect_timeout=2")
    reset_caches()
    camp = _wave_highlights(tmp_path, "open-data")
    bundle = load_bundle(camp)
    assert "open-data" in bundle.spec.waves[0].initiatives
    assert "open-data" not in {i.id for i in bundle.spec.initiatives}
    with pytest.raises(InvalidInput) as caught:
        assemble(bundle)
    messages = [p.message for p in caught.value.problems]
    assert any("unknown initiative 'open-data'" in m for m in messages), messages
    assert any("cannot read approved initiative requests" in m for m in messages), messages
    ordinary = load_bundle(MINIMAL)
    assert assemble(ordinary) is ordinary  # nothing to look up: the same object, no database read
