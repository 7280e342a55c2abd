"""The sent journal: the one cheap write per message that makes crash recovery exact.

A sending process records a ledger id here right after the relay accepts the message, and
marks rows `sent` in the database in batches. If the process dies between the two, the
sweeper finds the row still `sending`, looks here, and marks it `sent` instead of sending it
again. So a crash costs at most the one message between the relay's reply and this record.

With a broker the journal is a Redis set per wave run (shared by every machine); embedded, it
is an append-only file per run in the outbox folder.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Protocol, TextIO

JOURNAL_TTL_SECONDS = 14 * 24 * 3600


class JournalUnavailable(Exception):
    """The journal cannot be written (Redis is down, the disk is full)."""


class Journal(Protocol):
    def record(self, run_id: int, ledger_id: int) -> None: ...
    def recorded(self, run_id: int, ledger_ids: Iterable[int]) -> set[int]: ...


class RedisJournal:
    """Keys are namespaced by the Redis prefix and the database, so two installations (or two
    test databases) sharing one Redis never read each other's journal."""

    def __init__(self, url: str, prefix: str, database_url: str) -> None:
        # Lazy: only a run with a broker journals in Redis; the embedded default never loads the
        # client (~0.1 s).
        import redis

        self.client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
        self.unavailable = (redis.RedisError, OSError)
        self.namespace = f"{prefix}sent:{hashlib.sha256(database_url.encode()).hexdigest()[:12]}"

    def _key(self, run_id: int) -> str:
        return f"{self.namespace}:{run_id}"

    def record(self, run_id: int, ledger_id: int) -> None:
        try:
            pipe = self.client.pipeline(transaction=False)
            pipe.sadd(self._key(run_id), ledger_id)
            pipe.expire(self._key(run_id), JOURNAL_TTL_SECONDS)
            pipe.execute()
        except self.unavailable as exc:
            raise JournalUnavailable(f"sent journal unavailable: {exc}") from None

    def recorded(self, run_id: int, ledger_ids: Iterable[int]) -> set[int]:
        ids = list(ledger_ids)
        if not ids:
            return set()
        flags = self.client.smismember(self._key(run_id), ids)
        return {i for i, present in zip(ids, flags, strict=True) if present}


class FileJournal:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.handles: dict[int, TextIO] = {}
        self.lock = threading.Lock()  # several relay connections record in one file

    def _path(self, run_id: int) -> Path:
        return self.directory / f"run-{run_id}.sent"

    def record(self, run_id: int, ledger_id: int) -> None:
        with self.lock:
            handle = self.handles.get(run_id)
            if handle is None:
                self.directory.mkdir(parents=True, exist_ok=True)
                handle = self._path(run_id).open("a", encoding="ascii", buffering=1)  # line-buffered: one write
                self.handles[run_id] = handle
            try:
                handle.write(f"{ledger_id}\n")
            except OSError as exc:
                raise JournalUnavailable(f"sent journal unavailable: {exc}") from None

    def recorded(self, run_id: int, ledger_ids: Iterable[int]) -> set[int]:
        wanted = set(ledger_ids)
        path = self._path(run_id)
        if not wanted or not path.exists():
            return set()
        with path.open(encoding="ascii") as handle:
            return {int(line) for line in handle if line.strip().isdigit() and int(line) in wanted}
