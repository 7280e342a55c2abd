"""One file per message in the outbox: the embedded default's e-mail (.eml) and the dry run of
the channels over HTTP (.json). A file is named by the message's delivery key and is whole or
absent: a retry overwrites the same file and never makes a second copy.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from campaign.channel_contract import TransientError


def write_whole(target: Path, data: bytes, what: str) -> None:
    """Write TARGET in one step (a temporary file, then a rename). A disk that refuses it (full,
    read-only, gone) is worth another try later: TransientError naming `what`, nothing left behind."""
    tmp: str | None = None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".", suffix=".tmp")
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, target)
    except OSError as exc:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        raise TransientError(f"{what} outbox not writable: {exc.strerror}") from None
