"""Moving a wave to another day by rewriting its start in campaign.yaml, and nothing else.

The file stays the team's: one value changes in place (the start's date, or the `days:` of a
start relative to another wave), so comments, order and layout are kept, and the diff is one
line. The move is checked on a copy first: a day on a blackout date, outside the send window or
out of the waves' order is refused with the reason, and the file is not touched. The new file
replaces the old one atomically. A move changes the content, so earlier approvals no longer
hold, as with any edit.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from campaign.bundle import CAMPAIGN_FILE, load_spec, read_bundle
from campaign.errors import WavecastError
from campaign.file_writes import scratch_copy, write_atomically
from campaign.model import After
from campaign.phrase import Phrase, in_turn
from campaign.timing import resolve_starts

_DATE_TIME = re.compile(r"""(["']?)\d{4}-\d{2}-\d{2}(?:[Tt ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?\1""")
_NUMBER = re.compile(r"""(["']?)\d+\1""")


class MoveRefused(WavecastError):
    http_status = 400
    title = Phrase("The wave was not moved")


class FileChanged(WavecastError):
    http_status = 409
    title = Phrase("campaign.yaml changed meanwhile")


@dataclass(frozen=True)
class Moved:
    wave: str
    before: dt.datetime  # local
    after: dt.datetime  # local
    line: int  # the one line of campaign.yaml that changed


def file_hash(root: Path) -> str:
    """What a page that offers a move shows, so that a move made on an older view is refused."""
    return hashlib.sha256((root / CAMPAIGN_FILE).read_bytes()).hexdigest()


def _replace_at(text: str, line: int, column: int, pattern: re.Pattern[str], value: str) -> str:
    lines = text.splitlines(keepends=True)
    current = lines[line - 1]
    found = pattern.match(current, column - 1)
    if found is None:
        raise MoveRefused(
            Phrase(
                "%(file)s:%(line)d: the start is not written as a plain value here; edit the file",
                file=CAMPAIGN_FILE,
                line=line,
            )
        )
    lines[line - 1] = current[: found.start()] + value + current[found.end() :]
    return "".join(lines)


def _errors(root: Path) -> set[str]:
    _bundle, problems = read_bundle(root)
    return {p.message for p in problems if p.severity == "error"}


def move_wave(root: Path, wave_id: str, day: dt.date, seen_hash: str | None = None) -> Moved:
    """Move wave `wave_id` to `day`, keeping its time of day. Raises MoveRefused or FileChanged."""
    path = root / CAMPAIGN_FILE
    text = path.read_text(encoding="utf-8")
    if seen_hash is not None and hashlib.sha256(text.encode("utf-8")).hexdigest() != seen_hash:
        raise FileChanged(
            Phrase(
                "%(file)s was changed after this page was opened: reload it and move the wave again", file=CAMPAIGN_FILE
            )
        )
    spec, source = load_spec(root)
    index = next((i for i, w in enumerate(spec.waves) if w.id == wave_id), None)
    if index is None:
        raise MoveRefused(Phrase("the campaign has no wave %(wave)s", wave=repr(wave_id)))
    wave = spec.waves[index]
    before = resolve_starts(spec)[wave_id]
    shift = (day - before.date()).days
    if shift == 0:
        raise MoveRefused(Phrase("wave %(wave)s already starts on %(day)s", wave=repr(wave_id), day=day.isoformat()))
    if isinstance(wave.start, After):
        where: tuple[str | int, ...] = ("waves", index, "start", "days")
        days = wave.start.days + shift
        if where not in source.values:
            raise MoveRefused(
                Phrase(
                    "wave %(wave)s starts relative to %(after)s without `days:`; add it to move",
                    wave=repr(wave_id),
                    after=repr(wave.start.after),
                )
            )
        if days < 0:
            raise MoveRefused(
                Phrase(
                    "wave %(wave)s starts after %(after)s: it cannot move before that wave",
                    wave=repr(wave_id),
                    after=repr(wave.start.after),
                )
            )
        pattern, value = _NUMBER, str(days)
    else:
        where = ("waves", index, "start")
        if where not in source.values:
            raise MoveRefused(
                Phrase("wave %(wave)s: its start was not found in %(file)s", wave=repr(wave_id), file=CAMPAIGN_FILE)
            )
        moved = dt.datetime.combine(day, wave.start.time())
        pattern, value = _DATE_TIME, moved.isoformat(timespec="seconds" if moved.second else "minutes")
    line, column = source.values[where]
    new_text = _replace_at(text, line, column, pattern, value)
    after = _check_on_a_copy(root, new_text, wave_id)
    write_atomically(path, new_text)
    return Moved(wave_id, before, after, line)


def _check_on_a_copy(root: Path, new_text: str, wave_id: str) -> dt.datetime:
    """The moved wave's new local start; raises MoveRefused with every problem the move adds."""
    with scratch_copy(root, {}) as copy:
        earlier = _errors(copy)
        (copy / CAMPAIGN_FILE).write_text(new_text, encoding="utf-8")
        added = sorted(_errors(copy) - earlier)
        if added:
            raise MoveRefused(in_turn(added))
        spec, _source = load_spec(copy)
        return resolve_starts(spec)[wave_id]
