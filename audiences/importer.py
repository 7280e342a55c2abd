"""`wavecast contacts import`: a streaming, all-or-nothing CSV import.

The whole import runs in one database transaction. Rows are read, validated and upserted in
batches of a few thousand, so memory stays flat however long the file is. By default the
first bad row stops the writing (the rest is still checked, so every bad row is reported)
and the transaction is rolled back: nothing is half-written. ``skip_invalid`` commits the
good rows; ``dry_run`` validates and never writes.

Duplicate addresses in one file (in any letter case) are not an error: the later row wins,
exactly as if the file were imported twice. Rows whose address is on the suppression list
(erased earlier) are kept out and counted in the summary.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from audiences.csv_rows import (
    ContactRow,
    ImportRejected,
    RowError,
    RowProblem,
    RowRules,
    open_csv,
    parse_header,
    records,
    validate_row,
)
from audiences.upsert import BATCH_SIZE, ContactWriter, count_contacts, suppressed_hashes
from campaign.db import get_engine
from campaign.errors import rel


@dataclass
class ImportSummary:
    """What an import did (or, in a dry run, would do)."""

    file: str
    rows: int = 0
    valid: int = 0
    invalid: int = 0
    suppressed: int = 0
    created: int = 0
    updated: int = 0
    written: bool = False
    dry_run: bool = False

    def describe(self) -> str:
        kept_out = (
            f", {self.suppressed} kept out (on the suppression list: erased, bounced or complained; "
            "only subscribing again brings them back)"
            if self.suppressed
            else ""
        )
        if self.dry_run:
            return (
                f"{self.file}: {self.rows} rows checked: {self.valid} valid, {self.invalid} "
                f"invalid{kept_out}; nothing written (dry run)"
            )
        if not self.written:
            return f"{self.file}: {self.rows} rows: nothing imported"
        skipped = f", {self.invalid} invalid row(s) skipped" if self.invalid else ""
        return f"{self.file}: {self.rows} rows: {self.created} new, {self.updated} updated{kept_out}{skipped}"

    def as_json(self) -> dict[str, object]:
        return dict(self.__dict__)


def import_contacts(
    path: Path,
    *,
    languages: Sequence[str],
    tz: ZoneInfo,
    dry_run: bool = False,
    skip_invalid: bool = False,
    on_problem: Callable[[RowProblem], None] | None = None,
    batch_size: int = BATCH_SIZE,
    on_progress: Callable[[int], None] | None = None,
) -> ImportSummary:
    """Import a contacts CSV. Bad rows go to ``on_problem`` as they are found; ``on_progress``
    gets the number of rows read after each batch (for a progress bar).

    Raises ImportRejected when the file cannot be read as a whole (encoding, header), and,
    unless ``skip_invalid``, after the rollback when any row was bad.
    """
    display = rel(path)
    rules = RowRules(tuple(languages), tz)
    summary = ImportSummary(file=display, dry_run=dry_run)
    report = on_problem or (lambda _p: None)
    with open_csv(path, display) as stream, get_engine().connect() as conn:
        rows = records(stream, display)
        first = next(rows, None)
        if first is None:
            raise ImportRejected(f"{display}: the file is empty; it needs a header row with 'email'")
        header = parse_header(first[1], display)
        writer = (
            None
            if dry_run
            else ContactWriter(conn, header.columns, tags="tags" in header.known, attribute_names=list(header.custom))
        )
        with conn.begin() as transaction:
            before = count_contacts(conn) if writer else 0
            batch: list[ContactRow] = []

            def flush() -> None:
                if writer is not None and (skip_invalid or not summary.invalid):
                    summary.suppressed += writer.write(batch)[1]
                else:
                    blocked = suppressed_hashes(conn, (r.email_hash for r in batch))
                    summary.suppressed += sum(1 for r in batch if r.email_hash in blocked)
                batch.clear()
                if on_progress is not None:
                    on_progress(summary.rows)

            for line, cells in rows:
                summary.rows += 1
                try:
                    batch.append(validate_row(header, cells, line, rules))
                    summary.valid += 1
                except RowError as exc:
                    summary.invalid += 1
                    report(RowProblem(display, line, str(exc)))
                if len(batch) >= batch_size:
                    flush()
            flush()
            if writer is None or (summary.invalid and not skip_invalid):
                transaction.rollback()
            else:
                summary.created = count_contacts(conn) - before
                # Every valid row that was not kept out created or updated one contact
                # (a repeated address updates the contact its earlier row created).
                summary.updated = summary.valid - summary.suppressed - summary.created
                summary.written = True
    if summary.invalid and not skip_invalid and not dry_run:
        raise ImportRejected(
            f"{display}: {summary.invalid} bad row(s) of {summary.rows}; nothing imported "
            f"(fix them, or use --skip-invalid to import the {summary.valid} good rows)"
        )
    return summary
