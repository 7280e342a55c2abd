"""Reading a contacts CSV: UTF-8 lines, the header, and one validated ``ContactRow`` per record.

The file is read line by line as bytes and decoded line by line, so a byte that is not UTF-8
is reported at its real line (a text stream would fail somewhere inside an 8 KB buffer).
A record that spans lines (a quoted newline) is numbered by the line it starts on; the
header is line 1. Nothing here holds more than one record.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO
from zoneinfo import ZoneInfo

from audiences.cells import restore
from audiences.contact_rules import (
    PERSONAL_FIELDS,
    InvalidContact,
    check_attribute,
    check_email,
    check_personal,
    check_text,
)
from audiences.models import (
    ATTRIBUTE_NAME_MAX,
    ATTRIBUTE_VALUE_MAX,
    KIND_MAX,
    NAME_MAX,
    TAG_MAX,
)
from audiences.normalise import email_hash
from campaign.errors import WavecastError

# Columns that map onto the contacts table (tags onto contact_tags).
KNOWN = (
    "email",
    "first_name",
    "language",
    "tags",
    "birth_year",
    "region",
    "organisation_kind",
    "organisation_name",
    "organisation_founded",
    "consent_source",
    "consent_at",
    "unsubscribed_at",
)
# Written by `contacts export` for completeness; the database owns them, so import skips them.
IGNORED = ("id", "created_at", "updated_at")
ATTRIBUTE_NAME = re.compile(rf"^[a-z][a-z0-9_]{{0,{ATTRIBUTE_NAME_MAX - 1}}}$")
OLDEST_BIRTH_YEAR = 1900


class ImportRejected(WavecastError):
    """The file cannot be imported as a whole (encoding, header), or had bad rows."""


@dataclass(frozen=True)
class RowProblem:
    """A bad row, reported as FILE:ROW: message (ROW is the line in the file; header = 1)."""

    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


@dataclass
class ContactRow:
    """One validated contact, ready to upsert. ``fields`` holds the contacts-table columns."""

    line: int
    email: str
    email_hash: str
    fields: dict[str, Any] = field(default_factory=dict)
    tags: tuple[str, ...] | None = None
    attributes: dict[str, str | None] = field(default_factory=dict)


@dataclass(frozen=True)
class Header:
    """The file's columns: where each known column sits, and the custom attribute columns."""

    names: tuple[str, ...]
    known: dict[str, int]
    custom: dict[str, int]

    @property
    def columns(self) -> set[str]:
        """Contacts-table columns this file sets (tags and custom attributes aside)."""
        return {name for name in self.known if name not in ("email", "tags")}


def decoded_lines(stream: BinaryIO, display: str) -> Iterator[str]:
    """The stream's lines as text; a non-UTF-8 byte is an error naming its line and column."""
    for number, raw in enumerate(stream, start=1):
        if number == 1:
            if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
                raise ImportRejected(f"{display}:1: the file is UTF-16; save it as UTF-8 (with or without BOM)")
            raw = raw.removeprefix(codecs.BOM_UTF8)
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            column = len(raw[: exc.start].decode("utf-8", "replace")) + 1
            raise ImportRejected(
                f"{display}:{number}:{column}: not UTF-8 (byte 0x{raw[exc.start]:02x}); "
                "save the file as UTF-8 (with or without BOM)"
            ) from None


def records(stream: BinaryIO, display: str) -> Iterator[tuple[int, list[str]]]:
    """(line the record starts on, cells) for every non-blank record, header included."""
    reader = csv.reader(decoded_lines(stream, display))
    while True:
        start = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise ImportRejected(f"{display}:{start}: not readable as CSV: {exc}") from None
        if any(cell.strip() for cell in cells):
            yield start, cells


def parse_header(cells: Sequence[str], display: str) -> Header:
    """Check the header row; problems here make the whole file unusable."""
    names = tuple(cell.strip().lower() for cell in cells)
    problems = []
    for position, name in enumerate(names, start=1):
        if not name:
            problems.append(f"column {position} has no name")
        elif names.index(name) != position - 1:
            problems.append(f"column {name!r} appears twice")
        elif name not in KNOWN and name not in IGNORED and not ATTRIBUTE_NAME.match(name):
            problems.append(
                f"column {name!r}: a custom attribute name is lower-case letters, digits and _, "
                f"starting with a letter, at most {ATTRIBUTE_NAME_MAX} characters"
            )
    if "email" not in names:
        problems.append("there is no 'email' column")
    if problems:
        raise ImportRejected("\n".join(f"{display}:1: {p}" for p in problems))
    known = {n: i for i, n in enumerate(names) if n in KNOWN}
    custom = {n: i for i, n in enumerate(names) if n not in KNOWN and n not in IGNORED}
    return Header(names, known, custom)


class RowError(ValueError):
    """What is wrong with one row (all its problems, joined)."""


@dataclass(frozen=True)
class RowRules:
    """What the campaign allows: its languages, and the zone of times written without offset."""

    languages: tuple[str, ...]
    tz: ZoneInfo
    today: dt.date = field(default_factory=dt.date.today)


def _text(value: str, name: str, limit: int, problems: list[str], *, multiline: bool = False) -> str | None:
    try:
        if name in PERSONAL_FIELDS:
            return check_personal(name, value)
        return check_text(name, value, limit, multiline=multiline)
    except InvalidContact as exc:
        problems.append(str(exc))
        return None


def _moment(value: str, name: str, tz: ZoneInfo, problems: list[str]) -> dt.datetime | None:
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        problems.append(f"{name}: {value!r} is not an ISO date-time like 2024-03-01T09:30:00+01:00")
        return None
    return moment.replace(tzinfo=tz) if moment.tzinfo is None else moment


def _year(value: str, rules: RowRules, problems: list[str]) -> int | None:
    try:
        year = int(value)
    except ValueError:
        problems.append(f"birth_year: {value!r} is not a year")
        return None
    if not OLDEST_BIRTH_YEAR <= year <= rules.today.year:
        problems.append(f"birth_year: {year} is not between {OLDEST_BIRTH_YEAR} and {rules.today.year}")
        return None
    return year


def _column(name: str, value: str, rules: RowRules, problems: list[str]) -> Any:
    if name == "language":
        lang = value.lower()
        if lang not in rules.languages:
            problems.append(f"language: {value!r} is not one of the campaign's: {', '.join(rules.languages)}")
        return lang
    if name == "birth_year":
        return _year(value, rules, problems)
    if name in ("region", "organisation_kind"):
        return _text(value.lower(), name, KIND_MAX, problems)
    if name == "organisation_name":
        return _text(value, name, PERSONAL_FIELDS[name], problems)
    if name in ("first_name", "consent_source"):
        return _text(value, name, NAME_MAX, problems)
    if name == "organisation_founded":
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            problems.append(f"organisation_founded: {value!r} is not an ISO date like 2021-09-30")
            return None
    if name in ("consent_at", "unsubscribed_at"):
        return _moment(value, name, rules.tz, problems)
    raise AssertionError(name)  # pragma: no cover - KNOWN lists every column


def _tags(value: str, problems: list[str]) -> tuple[str, ...]:
    tags = dict.fromkeys(t.strip().lower() for t in value.split(";"))
    tags.pop("", None)
    for tag in tags:
        try:
            check_text("tags", tag, TAG_MAX)
        except InvalidContact as exc:
            problems.append(str(exc))
    return tuple(tags)


def validate_row(header: Header, cells: list[str], line: int, rules: RowRules) -> ContactRow:
    """One record as a ContactRow; raises RowError listing every problem in the row."""
    if len(cells) != len(header.names):
        raise RowError(f"has {len(cells)} cells, the header has {len(header.names)}")
    cells = [restore(cell) for cell in cells]
    problems: list[str] = []
    try:
        email = check_email(cells[header.known["email"]])
    except InvalidContact as exc:
        problems.append(str(exc))
        email = ""
    row = ContactRow(line=line, email=email, email_hash=email_hash(email) if email else "")
    for name, index in header.known.items():
        if name == "email":
            continue
        value = cells[index].strip()
        if name == "tags":
            row.tags = _tags(value, problems)
        else:
            row.fields[name] = _column(name, value, rules, problems) if value else None
    for name, index in header.custom.items():
        try:
            row.attributes[name] = check_attribute(name, cells[index], ATTRIBUTE_VALUE_MAX)
        except InvalidContact as exc:
            problems.append(str(exc))
    if problems:
        raise RowError("; ".join(problems))
    return row


def open_csv(path: Path, display: str) -> BinaryIO:
    try:
        return path.open("rb")
    except OSError as exc:
        raise ImportRejected(f"{display}: cannot read: {exc.strerror}") from None
