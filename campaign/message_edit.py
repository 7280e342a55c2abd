"""Editing one message file (front matter and Markdown body) from the browser.

The file is the source of truth and stays the team's: a save writes exactly the text the person
edited (its comments and front matter as they are), after the whole campaign was checked on a
scratch copy holding it, atomically. A save made on an older version of the file is refused
with what changed meanwhile, and the draft stays with the person: nothing is lost.
"""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from campaign.bundle import read_bundle
from campaign.errors import Problem, WavecastError
from campaign.file_writes import scratch_copy, write_atomically
from campaign.git_commits import commit_file, in_work_tree
from campaign.model import Campaign
from campaign.phrase import Phrase
from campaign.settings import get_settings

MAX_DRAFT = 256 * 1024  # characters: a message far beyond any newsletter's size is a mistake


class NoMessage(WavecastError):
    http_status = 404
    title = Phrase("No such message")


class DraftRefused(WavecastError):
    http_status = 422
    title = Phrase("Not saved: the draft has problems")

    def __init__(self, message: str, problems: list[Problem]) -> None:
        super().__init__(message)
        self.problems = problems


class SavedMeanwhile(WavecastError):
    http_status = 409
    title = Phrase("Not saved: someone saved this file meanwhile")

    def __init__(self, message: str, diff: str) -> None:
        super().__init__(message)
        self.diff = diff


@dataclass(frozen=True)
class Saved:
    name: str  # relative to the campaign directory
    diff: str  # unified diff of the change, for the record
    committed: bool = False  # WAVECAST_EDITOR_COMMITS: the save is a git commit
    not_committed: str | None = None  # why the asked-for commit was not made (the file is saved)


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def message_name(spec: Campaign, wave_id: str, audience_id: str, lang: str) -> str:
    """The file (relative to the campaign directory) that holds what `audience_id` reads in `lang`."""
    if wave_id not in {w.id for w in spec.waves}:
        raise NoMessage(f"the campaign has no wave {wave_id!r}")
    if lang not in spec.campaign.languages:
        raise NoMessage(f"{lang!r} is not one of the campaign's languages ({', '.join(spec.campaign.languages)})")
    wave = spec.wave(wave_id)
    message = next((m for m in wave.messages if audience_id in m.audiences), None)
    if message is None:
        raise NoMessage(f"wave {wave_id!r} has no message for audience {audience_id!r}")
    return f"messages/{message.template}.{lang}.md"


def diff(before: str, after: str, name: str) -> str:
    return "".join(
        difflib.unified_diff(
            before.splitlines(keepends=True), after.splitlines(keepends=True), f"a/{name}", f"b/{name}"
        )
    )


def _problems(root: Path) -> list[Problem]:
    return read_bundle(root)[1]


@contextmanager
def checked_draft(root: Path, name: str, text: str) -> Iterator[tuple[Path, list[Problem]]]:
    """A scratch copy of the campaign holding the draft, and the problems `validate` reports with
    it that it does not report today: the draft's own, named by `name` at their lines. One copy
    serves the check and whatever is rendered from it."""
    if len(text) > MAX_DRAFT:
        raise DraftRefused(
            f"{name}: too long",
            [Problem(name, 1, 1, f"the message is {len(text):,} characters; at most {MAX_DRAFT:,}")],
        )
    with scratch_copy(root, {}) as copy:
        earlier = {(p.line, p.column, p.message) for p in _problems(copy)}
        (copy / name).write_text(text, encoding="utf-8")
        found = [p for p in _problems(copy) if (p.line, p.column, p.message) not in earlier]
        yield copy, [named(p, name) for p in found]


def named(problem: Problem, name: str) -> Problem:
    """A problem found in a scratch copy, named as the campaign's own file `name` where it is its."""
    if not problem.file.endswith(name):
        return problem
    return Problem(name, problem.line, problem.column, problem.message, problem.severity)


def check_draft(root: Path, name: str, text: str) -> list[Problem]:
    """The problems the draft adds (see ``checked_draft``)."""
    try:
        with checked_draft(root, name, text) as (_copy, problems):
            return problems
    except DraftRefused as exc:
        return exc.problems


def save_message(
    root: Path, name: str, text: str, started_from: str, author: str = "wavecast <wavecast@localhost>"
) -> Saved:
    """Write the draft over the file, if the file is still what the editor started from; with
    WAVECAST_EDITOR_COMMITS, in a git working tree, commit it as `author` ("Name <address>")."""
    path = root / name
    current = path.read_text(encoding="utf-8") if path.exists() else ""
    if digest(current) != digest(started_from):
        raise SavedMeanwhile(
            f"{name} was saved by someone else after you opened it: their change is below; "
            "your text is still in the editor, merge it and save again",
            diff(started_from, current, name),
        )
    errors = [p for p in check_draft(root, name, text) if p.severity == "error"]
    if errors:
        raise DraftRefused(f"{name} was not saved: {len(errors)} problem(s)", errors)
    write_atomically(path, text)
    change = diff(current, text, name)
    if not get_settings().editor_commits or not in_work_tree(root):
        return Saved(name, change)
    problem = commit_file(root, name, author, f"Edit {name} in the web app")
    return Saved(name, change, committed=problem is None, not_committed=problem)
