"""`wavecast contacts export`: every contact we hold, as a CSV the importer reads back.

Streams by keyset pagination (id > last id), so memory stays flat. Cells a spreadsheet would
evaluate as a formula are neutralised (audiences.cells). Erased people are not in it: their
rows no longer exist. The file is written as UTF-8 with a BOM (spreadsheets then read accents
right) to a temporary name and renamed at the end, so a failed export leaves no half file.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import tempfile
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select

from audiences.cells import neutralise
from audiences.csv_rows import KNOWN
from audiences.models import contact_attributes, contact_tags, contacts
from campaign.db import get_engine
from campaign.errors import WavecastError, rel

PAGE = 5000
COLUMNS = (*KNOWN, "created_at", "updated_at")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return neutralise(str(value))


def _attribute_names(conn: Connection) -> list[str]:
    names = select(contact_attributes.c.name).distinct().order_by(contact_attributes.c.name)
    return list(conn.execute(names).scalars())


def export_rows(conn: Connection) -> Iterator[list[str]]:
    """The header, then one row per contact in id order."""
    extra = _attribute_names(conn)
    yield [*COLUMNS, *extra]
    table_columns = [contacts.c[name] for name in COLUMNS if name != "tags"]
    last = 0
    while True:
        page = conn.execute(
            select(contacts.c.id, *table_columns).where(contacts.c.id > last).order_by(contacts.c.id).limit(PAGE)
        ).all()
        if not page:
            return
        first, last = page[0][0], page[-1][0]
        tags: dict[int, list[str]] = defaultdict(list)
        for cid, tag in conn.execute(
            select(contact_tags.c.contact_id, contact_tags.c.tag)
            .where(contact_tags.c.contact_id.between(first, last))
            .order_by(contact_tags.c.tag)
        ):
            tags[cid].append(tag)
        attrs: dict[int, dict[str, str]] = defaultdict(dict)
        a = contact_attributes.c
        for cid, name, value in conn.execute(
            select(a.contact_id, a.name, a.value).where(a.contact_id.between(first, last))
        ):
            attrs[cid][name] = value
        for row in page:
            values = dict(zip([c.name for c in table_columns], row[1:], strict=True))
            values["tags"] = ";".join(tags.get(row[0], ()))
            cells = [_cell(values[name]) for name in COLUMNS]
            cells += [_cell(attrs.get(row[0], {}).get(name)) for name in extra]
            yield cells


def export_contacts(path: Path) -> int:
    """Write every contact to ``path``; returns how many."""
    display = rel(path)
    directory = path.parent if str(path.parent) else Path(".")
    count = -1
    try:
        handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=directory)
    except OSError as exc:
        raise WavecastError(f"{display}: cannot write: {exc.strerror}") from None
    try:
        with os.fdopen(handle, "w", encoding="utf-8-sig", newline="") as stream, get_engine().connect() as conn:
            writer = csv.writer(stream)
            for row in export_rows(conn):
                writer.writerow(row)
                count += 1
        os.replace(temp, path)
    except OSError as exc:
        Path(temp).unlink(missing_ok=True)
        raise WavecastError(f"{display}: cannot write: {exc.strerror}") from None
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return count
