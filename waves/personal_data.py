"""Every place wavecast writes a person's data, in one list: what `contacts show` lists (GDPR
access) and what `contacts erase` clears (GDPR erasure) come from the same function, so the two
cannot drift apart.

The places:
- the database: the contact row with its tags and attributes (audiences.consent); the ledger
  rows of their messages (no address, but the error text may quote a relay's reply, which often
  names the mailbox); initiative requests that gave their address as the organisation's contact;
  free-text notes and errors elsewhere that quote the address;
- the .eml outbox of the embedded default: the file of each of their ledger rows
  (``email/run-{run}/{ledger id}.eml``, the key waves.delivery sends under), and any other .eml
  whose To: is their address (proofs sent with ``--test-to``), temporary files included;
- the one log file wavecast writes itself: the CLI's internal-error log (campaign.errors).

Not places, and why: the social outbox renders posts per audience × language, never per person;
the sent journal (Redis or ``*.sent`` files) and the Celery messages carry ledger ids only.
On SQLite, deleted rows are overwritten (``secure_delete``, campaign.db) and the WAL is
checkpointed and truncated after an erasure, so the old bytes are neither in the file nor its WAL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, func, select, text, update

from audiences.consent import ERASED, contact_record, erase, find_contact_id, iso, suppression_of
from audiences.normalise import email_hash, normalise_typed
from audiences.preferences import history
from audiences.subscriptions import pending_requests
from campaign.db import get_engine
from campaign.errors import internal_error_log
from campaign.initiative_models import InitiativeRequest
from campaign.settings import get_settings
from waves.models import Delivery, WaveRun, WaveSchedule

HEADER_LIMIT = 64 * 1024  # an .eml's header block is read, never its body (images may be large)
# Free-text columns that may quote what a relay or an exception said.
TEXT_COLUMNS = (Delivery.last_error, WaveRun.note, WaveSchedule.note)


@dataclass
class Holdings:
    """Where one person's data is, as found at one moment."""

    address: str
    digest: str
    contact_id: int | None = None
    names: tuple[str, ...] = ()
    record: dict[str, Any] | None = None
    ledger: list[tuple[int, int]] = field(default_factory=list)  # (run id, ledger id)
    outbox_files: list[Path] = field(default_factory=list)
    initiative_requests: list[dict[str, Any]] = field(default_factory=list)
    text_cells: list[str] = field(default_factory=list)  # "table.column #id" that quote the address
    logs: list[Path] = field(default_factory=list)
    suppression: dict[str, Any] | None = None  # its reason and evidence, when the address is suppressed
    pending_subscriptions: list[dict[str, Any]] = field(default_factory=list)  # unconfirmed double opt-ins

    @property
    def suppressed(self) -> bool:
        return self.suppression is not None

    @property
    def anything(self) -> bool:
        return bool(
            self.record
            or self.outbox_files
            or self.initiative_requests
            or self.text_cells
            or self.logs
            or self.pending_subscriptions
        )

    def as_json(self) -> dict[str, Any]:
        """The contact's own record at the top (as before), and every other place beside it."""
        data: dict[str, Any] = dict(self.record or {"email": self.address})
        data["outbox_files"] = [str(p) for p in self.outbox_files]
        data["initiative_requests"] = self.initiative_requests
        data["other_database_text"] = self.text_cells
        data["logs"] = [str(p) for p in self.logs]
        data["suppression"] = self.suppression
        data["pending_subscriptions"] = self.pending_subscriptions
        data["not_held_per_person"] = NOT_HELD
        return data


NOT_HELD = {
    "social_outbox": "posts are rendered per audience and language, never per person",
    "sent_journal": "ledger ids only",
}


def _redactor(holdings: Holdings) -> re.Pattern[str]:
    """Matches the address and the person's names (whole words), in any case."""
    words = [re.escape(holdings.address)] + [rf"\b{re.escape(n)}\b" for n in holdings.names if len(n) >= 2]
    return re.compile("|".join(words), re.IGNORECASE)


def _marker(holdings: Holdings) -> str:
    return f"[erased contact {holdings.digest[:12]}]"


def _addressed_to(path: Path, needle: bytes) -> bool:
    """Does this .eml's header block name the address (To:, or anywhere in the headers)?"""
    try:
        with path.open("rb") as handle:
            head = handle.read(HEADER_LIMIT)
    except OSError:
        return False
    end = head.find(b"\r\n\r\n")
    block = head if end < 0 else head[:end]
    return needle in block.lower()


def _outbox_files(holdings: Holdings) -> list[Path]:
    """Their ledger rows' files, then any other .eml (or half-written temporary file) naming them."""
    root = get_settings().outbox_dir / "email"
    found: dict[Path, None] = {}
    for run_id, ledger_id in holdings.ledger:
        path = root / f"run-{run_id}" / f"{ledger_id}.eml"
        if path.is_file():
            found[path] = None
    if root.is_dir():
        needle = holdings.address.encode("utf-8")
        for path in root.rglob("*"):  # streamed: the outbox may hold a file per contact
            if path in found or path.suffix not in (".eml", ".tmp") or not path.is_file():
                continue
            if _addressed_to(path, needle):
                found[path] = None
    return list(found)


def _text_cells(conn: Connection, address: str) -> list[str]:
    cells = []
    for column in TEXT_COLUMNS:
        table = column.class_
        key = table.__mapper__.primary_key[0]
        query = select(key).where(func.lower(column).contains(address, autoescape=True))
        cells += [f"{table.__tablename__}.{column.key} #{row_id}" for row_id in conn.execute(query).scalars()]
    return cells


def _logs(holdings: Holdings) -> list[Path]:
    log = internal_error_log()
    try:
        content = log.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    return [log] if _redactor(holdings).search(content) else []


def messages_of(conn: Connection, contact_id: int) -> list[dict[str, Any]]:
    """What the delivery ledger holds about this person: which wave's message, when, with what result."""
    rows = conn.execute(
        select(
            WaveRun.campaign_id,
            WaveRun.wave_id,
            Delivery.channel,
            Delivery.message_id,
            Delivery.audience_id,
            Delivery.language,
            Delivery.status,
            Delivery.sent_at,
            Delivery.last_error,
        )
        .join(WaveRun, WaveRun.id == Delivery.run_id)
        .where(Delivery.contact_id == contact_id)
        .order_by(Delivery.id)
    ).mappings()
    return [{key: iso(value) for key, value in row.items()} for row in rows]


def find(email: str) -> Holdings:
    """Everything held about the person with this address (raises InvalidEmail for a bad one)."""
    address = normalise_typed(email)
    holdings = Holdings(address=address, digest=email_hash(address))
    with get_engine().connect() as conn:
        holdings.contact_id = find_contact_id(conn, address)
        holdings.suppression = suppression_of(conn, address)
        if holdings.contact_id is not None:
            holdings.record = {
                **contact_record(conn, holdings.contact_id),
                **history(conn, holdings.contact_id),
                "messages": messages_of(conn, holdings.contact_id),
            }
            holdings.names = tuple(
                n for n in (holdings.record.get("first_name"), holdings.record.get("organisation_name")) if n
            )
            holdings.ledger = [
                (r.run_id, r.id)
                for r in conn.execute(
                    select(Delivery.run_id, Delivery.id).where(Delivery.contact_id == holdings.contact_id)
                )
            ]
        r = InitiativeRequest
        holdings.initiative_requests = [
            {"id": row.id, "organisation": row.organisation, "initiative": row.initiative_id, "status": row.status}
            for row in conn.execute(
                select(r.id, r.organisation, r.initiative_id, r.status).where(func.lower(r.contact_email) == address)
            )
        ]
        holdings.text_cells = _text_cells(conn, address)
        holdings.pending_subscriptions = pending_requests(conn, holdings.digest)
    holdings.outbox_files = _outbox_files(holdings)
    holdings.logs = _logs(holdings)
    return holdings


@dataclass(frozen=True)
class Erasure:
    held: bool
    ledger_rows: int
    outbox_files: int
    initiative_requests: int
    text_cells: int
    logs: int
    wal_truncated: bool | None  # None: not SQLite
    suppression_reason: str = ERASED  # the first reason stays: a bounced address erased later says so

    def describe(self) -> str:
        parts = [
            "the contact row, tags and attributes deleted" if self.held else "no contact held this address",
            f"{self.ledger_rows} ledger row(s) anonymised",
            f"{self.outbox_files} outbox file(s) deleted",
            f"{self.initiative_requests} initiative request(s) without the contact address",
            f"{self.text_cells} note(s) or error(s) redacted",
            f"{self.logs} log file(s) scrubbed",
        ]
        if self.wal_truncated is False:
            parts.append("the SQLite WAL could not be truncated now (another process reads it); run erase again later")
        why = "" if self.suppression_reason == ERASED else f" ({self.suppression_reason})"
        return "; ".join(parts) + f"; the address's keyed hash is on the suppression list{why}"


def erase_everywhere(email: str) -> Erasure:
    """GDPR erasure in every place ``find`` lists. Each step is idempotent, so running it again
    after an interruption finishes the job; files go first, while the ledger still says which."""
    holdings = find(email)
    pattern, marker = _redactor(holdings), _marker(holdings)
    for path in holdings.outbox_files:
        path.unlink(missing_ok=True)
    for log in holdings.logs:
        _scrub_file(log, pattern, marker)
    engine = get_engine()
    with engine.begin() as conn:
        if holdings.contact_id is not None:
            for row_id, error in conn.execute(
                select(Delivery.id, Delivery.last_error).where(
                    Delivery.contact_id == holdings.contact_id, Delivery.last_error.is_not(None)
                )
            ).all():
                conn.execute(
                    update(Delivery).where(Delivery.id == row_id).values(last_error=pattern.sub(marker, error or ""))
                )
        redacted = _redact_text(conn, holdings.address, marker)
        requests = conn.execute(
            update(InitiativeRequest)
            .where(func.lower(InitiativeRequest.contact_email) == holdings.address)
            .values(contact_email=None)
        ).rowcount
    held = erase(holdings.address)
    with engine.connect() as conn:
        entry = suppression_of(conn, holdings.address)
    return Erasure(
        held=held,
        ledger_rows=len(holdings.ledger),
        outbox_files=len(holdings.outbox_files),
        initiative_requests=requests,
        text_cells=redacted,
        logs=len(holdings.logs),
        wal_truncated=_checkpoint(engine),
        suppression_reason=entry["reason"] if entry else ERASED,
    )


def _redact_text(conn: Connection, address: str, marker: str) -> int:
    """Replace the address in every free-text column that quotes it (a relay's reply, a note)."""
    pattern = re.compile(re.escape(address), re.IGNORECASE)
    count = 0
    for column in TEXT_COLUMNS:
        table = column.class_
        key = table.__mapper__.primary_key[0]
        rows = conn.execute(select(key, column).where(func.lower(column).contains(address, autoescape=True))).all()
        for row_id, value in rows:
            conn.execute(update(table).where(key == row_id).values({column.key: pattern.sub(marker, value)}))
            count += 1
    return count


def _scrub_file(path: Path, pattern: re.Pattern[str], marker: str) -> None:
    """Rewrite a log without the person, whole or not at all."""
    content = path.read_text(encoding="utf-8", errors="replace")
    temporary = path.with_name(f".{path.name}.erasing")
    temporary.write_text(pattern.sub(marker, content), encoding="utf-8")
    temporary.replace(path)


def _checkpoint(engine: Engine) -> bool | None:
    """Copy the WAL into the database file and truncate it, so deleted bytes leave the WAL too."""
    if engine.dialect.name != "sqlite":
        return None
    with engine.connect() as conn:
        busy = conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)")).first()
        conn.commit()
    return busy is not None and busy[0] == 0
