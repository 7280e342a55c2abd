"""Writing a campaign file from the web app: on a scratch copy first, then atomically.

A change made in the browser is checked the way `validate` checks the files, on a copy of the
campaign directory that holds the changed file; only a change that adds no error reaches the
real directory, in one rename, so a reader never sees half a file.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def scratch_copy(root: Path, changed: Mapping[str, str]) -> Iterator[Path]:
    """A copy of the campaign directory with `changed` (relative name -> text) written in it."""
    with tempfile.TemporaryDirectory(prefix="wavecast-edit-") as scratch:
        copy = Path(scratch) / root.name
        shutil.copytree(root, copy, symlinks=True)
        for name, text in changed.items():
            (copy / name).write_text(text, encoding="utf-8")
        yield copy


def write_atomically(path: Path, text: str) -> None:
    """Replace `path` with `text` in one rename, keeping its permissions; nothing half-written."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        if path.exists():
            shutil.copymode(path, tmp)
        else:
            os.chmod(tmp, 0o644)  # a new file (a translation written for the first time)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
