"""Writing validated contacts in batches: INSERT ... ON CONFLICT (email) DO UPDATE, both dialects.

Shared by the CSV importer and the synthetic generator. Per batch: rows on the suppression
list are dropped (an erased address never comes back as a contact), duplicate addresses keep
the later row, contacts are upserted with RETURNING (id, email), then their tags and custom
attributes are replaced for the columns the file has.

An upsert only changes the columns the file has; ``unsubscribed_at`` is never cleared by an
import (a later row can unsubscribe someone, not re-subscribe them).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import (
    Connection,
    Integer,
    Select,
    Table,
    any_,
    bindparam,
    delete,
    func,
    select,
)
from sqlalchemy.dialects import postgresql

from audiences.csv_rows import KNOWN, ContactRow
from audiences.models import contact_attributes, contact_tags, contacts, suppressions
from audiences.normalise import email_hash, normalise_email
from campaign.db import DialectInsert, dialect_insert, get_engine, utcnow

BATCH_SIZE = 5000
# The contacts table's own columns an import writes (email is the key; tags have their own table).
CONTACT_COLUMNS = tuple(c for c in KNOWN if c not in ("email", "tags"))


def suppressed_hashes(conn: Connection, hashes: Iterable[str]) -> set[str]:
    """Which of these keyed hashes are on the suppression list."""
    wanted = list(hashes)
    if not wanted:
        return set()
    query = select(suppressions.c.email_hash).where(suppressions.c.email_hash.in_(wanted))
    return set(conn.execute(query).scalars())


def count_contacts(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(contacts)).scalar_one())


def _unnest(table: Table, records: Sequence[Mapping[str, Any]]) -> Select:
    """PostgreSQL: the records as ``SELECT * FROM unnest(array, array, ...)``, one array per column.

    A batch then travels as one short statement with one parameter per column, instead of
    thousands of placeholders the driver would have to parse for every batch.
    """
    names = list(records[0])
    arrays = [
        bindparam(f"unnest_{name}", [r[name] for r in records], type_=postgresql.ARRAY(table.c[name].type))
        for name in names
    ]
    rows = func.unnest(*arrays).table_valued(*names).render_derived()
    return select(*[rows.c[name] for name in names])


class ContactWriter:
    """Upserts batches of ContactRows on one connection (the caller owns the transaction)."""

    def __init__(
        self,
        conn: Connection,
        columns: Iterable[str],
        *,
        tags: bool,
        attribute_names: Sequence[str] = (),
    ) -> None:
        self.conn = conn
        self.columns = [c for c in CONTACT_COLUMNS if c in set(columns)]
        self.tags = tags
        self.attribute_names = list(attribute_names)
        self.arrays = conn.dialect.name == "postgresql"
        dialect_insert(conn, contacts)  # refuse other databases early

    def _insert(self, table: Table, records: Sequence[Mapping[str, Any]]) -> DialectInsert:
        statement = dialect_insert(self.conn, table)
        if self.arrays:
            statement = statement.from_select(list(records[0]), _unnest(table, records))
        return statement

    def _run(self, statement: Any, records: Sequence[Mapping[str, Any]]) -> Any:
        return self.conn.execute(statement) if self.arrays else self.conn.execute(statement, records)

    def _among(self, column: Any, ids: list[int]) -> Any:
        if self.arrays:
            return column == any_(bindparam("ids", ids, type_=postgresql.ARRAY(Integer)))
        return column.in_(ids)

    def _upsert(self, records: Sequence[Mapping[str, Any]]) -> dict[str, int]:
        insert = self._insert(contacts, records)
        excluded = insert.excluded
        updates: dict[str, Any] = {name: excluded[name] for name in self.columns}
        if "unsubscribed_at" in updates:
            updates["unsubscribed_at"] = func.coalesce(contacts.c.unsubscribed_at, excluded.unsubscribed_at)
        updates["updated_at"] = excluded.updated_at
        statement = insert.on_conflict_do_update(index_elements=[contacts.c.email], set_=updates).returning(
            contacts.c.id, contacts.c.email
        )
        return {email: cid for cid, email in self._run(statement, records)}

    def write(self, rows: Sequence[ContactRow]) -> tuple[int, int]:
        """Upsert one batch; returns (contacts written, rows kept out by the suppression list)."""
        latest = {row.email: row for row in rows}  # a later row for the same address wins
        blocked = suppressed_hashes(self.conn, (r.email_hash for r in latest.values()))
        keep = [r for r in latest.values() if r.email_hash not in blocked]
        kept_out = sum(1 for r in rows if r.email_hash in blocked)
        if not keep:
            return 0, kept_out
        now = utcnow()
        ids = self._upsert(
            [
                {
                    "email": r.email,
                    "email_hash": r.email_hash,
                    **{name: r.fields.get(name) for name in CONTACT_COLUMNS},
                    "created_at": now,
                    "updated_at": now,
                }
                for r in keep
            ]
        )
        if self.tags:
            self._replace_tags(keep, ids)
        if self.attribute_names:
            self._replace_attributes(keep, ids)
        return len(keep), kept_out

    def _replace_tags(self, rows: Sequence[ContactRow], ids: dict[str, int]) -> None:
        self.conn.execute(delete(contact_tags).where(self._among(contact_tags.c.contact_id, list(ids.values()))))
        values = [{"contact_id": ids[r.email], "tag": t} for r in rows for t in r.tags or ()]
        if values:
            self._run(self._insert(contact_tags, values), values)

    def _replace_attributes(self, rows: Sequence[ContactRow], ids: dict[str, int]) -> None:
        a = contact_attributes.c
        self.conn.execute(
            delete(contact_attributes).where(
                self._among(a.contact_id, list(ids.values())), a.name.in_(self.attribute_names)
            )
        )
        values = [
            {"contact_id": ids[r.email], "name": name, "value": value}
            for r in rows
            for name, value in r.attributes.items()
            if value is not None
        ]
        if values:
            self._run(self._insert(contact_attributes, values), values)


def add_contacts(records: Iterable[Mapping[str, Any]]) -> list[int]:
    """Upsert contacts given as dicts (``email`` plus any contacts column, ``tags``, ``attributes``).

    For tests and tools of other features that need contacts in the database; values are
    taken as given (no CSV validation), the address is normalised. Returns the ids in order.
    """
    rows = []
    names: set[str] = set()
    for number, record in enumerate(records, start=1):
        email = normalise_email(record["email"])
        attributes = dict(record.get("attributes") or {})
        names.update(attributes)
        fields = {name: record.get(name) for name in CONTACT_COLUMNS}
        rows.append(ContactRow(number, email, email_hash(email), fields, tuple(record.get("tags") or ()), attributes))
    with get_engine().begin() as conn:
        writer = ContactWriter(conn, CONTACT_COLUMNS, tags=True, attribute_names=sorted(names))
        for start in range(0, len(rows), BATCH_SIZE):
            writer.write(rows[start : start + BATCH_SIZE])
        ids = dict(
            conn.execute(
                select(contacts.c.email, contacts.c.id).where(contacts.c.email.in_([r.email for r in rows]))
            ).all()
        )
    return [ids[r.email] for r in rows if r.email in ids]
