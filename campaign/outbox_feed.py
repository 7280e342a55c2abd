"""The outbox messenger: each post becomes a line of a per-platform JSON-lines feed that a team or
a social scheduler imports. The embedded default for posts, and the dry run.

A retried push after a crash may append the same post twice; both lines carry the same
idempotency_key, so an importer recognises the duplicate.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from campaign.channel_contract import Outgoing, TransientError


class OutboxMessenger:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def push(self, message: Outgoing) -> None:
        post = json.loads(message.body)
        line = json.dumps({**post, "idempotency_key": message.key}, ensure_ascii=False, sort_keys=True) + "\n"
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            # One write of a whole line in append mode: lines of two workers never interleave.
            fd = os.open(self.directory / f"{message.recipient}.jsonl", os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(fd, line.encode("utf-8"))
            finally:
                os.close(fd)
        except OSError as exc:
            raise TransientError(f"outbox feed not writable: {exc.strerror}") from None

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass
