"""Editing a message in the browser: the draft checked and rendered as in `validate` and the
preview, saved atomically, a concurrent save refused with the other change shown and the draft
kept, and every language side by side with missing and stale translations marked."""

from __future__ import annotations

import html
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from campaign.bundle import load_bundle
from campaign.db import get_engine, session_scope
from tests.operator_client import TestClient, json_as_operator, operator_client, post_as_operator
from tests.sending_setup import approved_campaign
from waves.approval import approval_state

FR = "messages/hello/all.fr.md"


@pytest.fixture
def camp(tmp_path: Path, database_url: str) -> Path:
    return approved_campaign(tmp_path).root


@pytest.fixture
def client(camp: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    with operator_client(camp, monkeypatch) as test_client:
        yield test_client


def _post(client: TestClient, text: str, started_from: str, action: str) -> Any:
    return post_as_operator(
        client, "/edit/first/citizens/fr", {"text": text, "started_from": started_from, "action": action}
    )


def _textarea(page: str) -> str:
    found = re.search(r'<textarea id="text"[^>]*>(.*?)</textarea>', page, re.S)
    assert found is not None
    return html.unescape(found.group(1))


def test_the_editor_shows_the_file_and_what_it_renders_to(client: TestClient, camp: Path) -> None:
    page = client.get("/edit/first/citizens/fr")
    assert page.status_code == 200
    assert _textarea(page.text) == (camp / FR).read_text()
    assert "Hello all (fr)" in page.text  # the subject, rendered
    assert page.text.count('<iframe class="newsletter"') == 2  # desktop and phone width
    frame = re.search(r'src="(/edit/draft/\w+)"', page.text)
    assert frame is not None and "message in fr." in client.get(frame.group(1)).text
    assert client.get("/edit/first/nobody/fr").status_code == 404
    assert client.get("/edit/first/citizens/it").status_code == 404


def test_a_draft_is_checked_at_its_line_and_rendered_without_touching_the_file(client: TestClient, camp: Path) -> None:
    saved = (camp / FR).read_text()
    broken = saved.replace("This is the **all** message", "This is {{ contact.first_name | nosuchfilter }} the")
    page = _post(client, broken, saved, "preview")
    assert page.status_code == 200
    line = broken.splitlines().index(next(x for x in broken.splitlines() if "nosuchfilter" in x)) + 1
    assert f"line {line}, column" in page.text and "nosuchfilter" in page.text
    assert _textarea(page.text) == broken  # the draft stays in the editor
    assert (camp / FR).read_text() == saved

    live = json_as_operator(
        client, "/api/edit/first/citizens/fr", {"text": saved.replace("Hello all (fr)", "Bonjour à tous")}
    ).json()
    assert live["problems"] == [] and live["subject"] == "Bonjour à tous"
    assert "x" in {p["channel"] for p in live["posts"]}
    assert "Bonjour à tous" in client.get(live["frame"]).text


def test_saving_writes_the_file_and_voids_the_approvals(client: TestClient, camp: Path) -> None:
    saved = (camp / FR).read_text()
    draft = saved.replace("This is the **all** message in fr.", "Voici le message pour tous.")
    done = _post(client, draft, saved, "save")
    assert done.status_code == 303 and done.headers["location"] == "/edit/first/citizens/fr?done=saved"
    assert (camp / FR).read_text() == draft
    with session_scope() as session:
        assert not approval_state(session, load_bundle(camp), "first").valid
    assert [p.name for p in (camp / "messages" / "hello").iterdir() if p.name.startswith(".")] == []


def test_a_draft_with_an_error_is_not_saved(client: TestClient, camp: Path) -> None:
    saved = (camp / FR).read_text()
    refused = _post(client, saved.replace('subject: "Hello all (fr)"\n', ""), saved, "save")
    assert refused.status_code == 422 and "subject" in refused.text
    assert (camp / FR).read_text() == saved


def test_the_second_of_two_saves_is_refused_with_the_first_change_and_keeps_its_draft(
    client: TestClient, camp: Path
) -> None:
    opened = (camp / FR).read_text()
    theirs = opened.replace("Read more", "Lire la suite")
    assert _post(client, theirs, opened, "save").status_code == 303
    mine = opened.replace("This is the **all** message in fr.", "Mon texte à moi.")
    refused = _post(client, mine, opened, "save")
    assert refused.status_code == 409
    assert "-cta: {label: &#34;Read more&#34;" in refused.text or "-cta: {label: &quot;Read more&quot;" in refused.text
    assert "Lire la suite" in refused.text
    assert _textarea(refused.text) == mine  # nothing lost
    assert (camp / FR).read_text() == theirs
    started = re.search(r'name="started_from" value="([^"]*)"', refused.text, re.S)
    assert started is not None and html.unescape(started.group(1)) == theirs  # a second save merges onto theirs


def test_the_translation_view_marks_missing_and_stale(client: TestClient, camp: Path) -> None:
    (camp / "messages/hello/all.de.md").unlink()
    nl, fr = camp / "messages/hello/all.nl.md", camp / "messages/hello/all.fr.md"
    os.utime(fr, (nl.stat().st_mtime - 60, nl.stat().st_mtime - 60))  # the Dutch text changed after
    page = client.get("/translations/first/citizens").text
    sections = dict(re.findall(r'<h2 id="t-(\w+)">\w+\s*(.*?)</h2>', page, re.S))
    assert set(sections) == {"nl", "fr", "de", "en"}
    assert "stale" in sections["fr"] and "missing" in sections["de"]
    assert "stale" not in sections["en"] and "missing" not in sections["nl"]


def test_editing_needs_the_operator(client: TestClient, camp: Path) -> None:
    saved = (camp / FR).read_text()
    csrf = client.get("/api/csrf").json()["csrf_token"]
    anonymous = client.post(
        "/edit/first/citizens/fr", data={"text": "x", "started_from": saved, "action": "save", "csrf_token": csrf}
    )
    assert anonymous.status_code == 401 and (camp / FR).read_text() == saved


def test_with_editor_commits_a_save_is_a_git_commit_of_that_file_only(
    client: TestClient, camp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import subprocess

    from tests.conftest import reset_caches

    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(camp), *args], check=True, capture_output=True, text=True).stdout

    git("init", "-q")
    git("-c", "user.name=Team", "-c", "user.email=team@example.org", "add", "-A")
    git("-c", "user.name=Team", "-c", "user.email=team@example.org", "commit", "-qm", "the campaign")
    (camp / "notes.txt").write_text("staged, not the editor's\n")
    git("add", "notes.txt")
    monkeypatch.setenv("WAVECAST_EDITOR_COMMITS", "1")
    reset_caches()
    saved = (camp / FR).read_text()
    done = _post(client, saved.replace("Read more", "Lire la suite"), saved, "save")
    assert done.status_code == 303 and done.headers["location"].endswith("done=saved-committed")
    assert git("log", "-1", "--format=%s|%cn").strip() == f"Edit {FR} in the web app|wavecast"
    assert git("show", "--name-only", "--format=", "HEAD").split() == [FR]
    assert git("diff", "--cached", "--name-only").split() == ["notes.txt"]  # still staged, not committed


def test_a_save_is_in_the_audit_log_with_its_diff_and_its_author_cannot_approve(client: TestClient, camp: Path) -> None:
    from accounts import audit, directory
    from accounts.roles import NotAllowed
    from tests.operator_client import EMAIL
    from waves.approval import approve

    saved = (camp / FR).read_text()
    assert _post(client, saved.replace("Read more", "Lire la suite"), saved, "save").status_code == 303
    with get_engine().connect() as conn:
        edits = {e["object"]: e for e in audit.entries(conn) if e["action"] == "wave.edit"}
        assert set(edits) == {"wave:mini:first", "wave:mini:second"}  # both waves read hello/all
        first = edits["wave:mini:first"]
        assert first["actor"] == EMAIL and '+cta: {label: "Lire la suite"' in first["after"]["diff"]
        assert audit.verify(conn).intact
    with session_scope() as session:
        editor = directory.actor(session, directory.find(session, EMAIL))
        with pytest.raises(NotAllowed, match="edited it"):
            approve(session, load_bundle(camp), "first", editor)  # four eyes: someone else approves
