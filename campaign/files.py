"""Reading the files a campaign names: inside its directory, regular files only, bounded.

A campaign directory comes from a person (and may come from an archive someone sent). A
name in it must not reach ``/etc/passwd`` through ``..``, an absolute path or a symbolic
link, and a FIFO or a device (``/dev/zero``) behind a name must not hang or flood the
reader. Every read of a campaign file goes through ``read_campaign_file``, so the rule is
kept in one place; a refusal is a ``Problem`` at the line that named the file.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path, PurePosixPath

from campaign.errors import Problem, WavecastError

TEXT_LIMIT = 1024 * 1024  # a message file; the newsletter it makes is clipped above 102 KB anyway
IMAGE_LIMIT = 5 * 1024 * 1024  # an image e-mails load; larger ones are too heavy for mail
MAX_NAME = 1024  # characters in a relative name; a longer one is no file of a campaign
MAX_PART = 255  # characters in one part of a name (the file system's own limit)
Where = tuple[str, int, int]  # file, line and column of the key that named the file

_OPEN_FLAGS = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)


class Refused(WavecastError):
    """A file name or a file the campaign may not use; the message says why, without the target."""


def campaign_path(root: Path, name: str) -> Path:
    """The resolved path of `name` (relative, '/'-separated), if it stays inside `root`.

    Raises Refused for a NUL byte, an absolute path, '..', a backslash, an overlong name,
    or a symbolic link that leads out of the campaign directory.
    """
    if "\x00" in name:
        raise Refused("the file name holds a NUL byte")
    if not name or not name.strip():
        raise Refused("the file name is empty")
    if len(name) > MAX_NAME or any(len(part) > MAX_PART for part in name.split("/")):
        raise Refused(f"the file name is too long (limit {MAX_NAME} characters, {MAX_PART} per part)")
    if "\\" in name:
        raise Refused("write file names with '/', not '\\'")
    pure = PurePosixPath(name)
    if pure.is_absolute() or (len(name) > 1 and name[0].isalpha() and name[1] == ":"):
        raise Refused("an absolute path: name a file inside the campaign directory, relative to it")
    if ".." in pure.parts:
        raise Refused("'..' is not allowed: name a file inside the campaign directory")
    base = root.resolve()
    try:
        resolved = (base / pure).resolve()
    except (OSError, RuntimeError):  # a symlink loop, or a name the system refuses
        raise Refused("the name cannot be resolved (a symbolic link loop?)") from None
    if not resolved.is_relative_to(base):
        raise Refused("it leads outside the campaign directory (a symbolic link?)")
    return resolved


def read_regular(path: Path, limit: int) -> bytes:
    """The bytes of a regular file of at most `limit` bytes; raises Refused otherwise.

    The type and size are checked before opening; the open does not block (a FIFO swapped
    in after the check cannot hang the reader) and the opened file is checked again.
    """
    try:
        before = os.stat(path)
    except FileNotFoundError:
        raise Refused("file not found") from None
    except OSError as exc:
        raise Refused(f"cannot read file: {exc.strerror}") from None
    _check(before, limit)
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except OSError as exc:
        raise Refused(f"cannot read file: {exc.strerror}") from None
    try:
        _check(os.fstat(fd), limit)
        chunks = []
        size = 0
        while size <= limit:
            chunk = os.read(fd, min(1024 * 1024, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        raise Refused(f"cannot read file: {exc.strerror}") from None
    finally:
        os.close(fd)
    if size > limit:
        raise Refused(f"file too large (it grew while read; limit {limit} bytes)")
    return b"".join(chunks)


def _check(found: os.stat_result, limit: int) -> None:
    if not stat.S_ISREG(found.st_mode):
        kind = (
            "a FIFO"
            if stat.S_ISFIFO(found.st_mode)
            else "a directory"
            if stat.S_ISDIR(found.st_mode)
            else "a device"
            if stat.S_ISCHR(found.st_mode) or stat.S_ISBLK(found.st_mode)
            else "a socket"
            if stat.S_ISSOCK(found.st_mode)
            else "not a file"
        )
        raise Refused(f"not a regular file ({kind}): a campaign reads only ordinary files")
    if found.st_size > limit:
        raise Refused(f"file too large ({found.st_size} bytes; limit {limit} bytes)")


def check_campaign_file(root: Path, name: str, limit: int) -> Path:
    """The resolved path of a campaign file that could be read: inside, regular, not too large."""
    path = campaign_path(root, name)
    try:
        found = os.stat(path)
    except FileNotFoundError:
        raise Refused("file not found") from None
    except OSError as exc:
        raise Refused(f"cannot read file: {exc.strerror}") from None
    _check(found, limit)
    return path


def read_campaign_file(root: Path, name: str, where: Where, limit: int) -> tuple[bytes | None, list[Problem]]:
    """The bytes of the campaign file `name`, or a Problem at `where` (the line that named it)."""
    try:
        return read_regular(campaign_path(root, name), limit), []
    except Refused as exc:
        return None, [Problem(*where, f"{name}: {exc}")]
