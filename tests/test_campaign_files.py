"""A campaign reads only its own files: every name resolves inside the campaign directory, only
regular files are read, sizes are checked first, and each refusal is a FILE:LINE error of
`wavecast validate` at the line that named the file, within seconds (a FIFO never hangs it)."""

from __future__ import annotations

import base64
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from campaign.files import IMAGE_LIMIT, TEXT_LIMIT
from tests.campaign_copy import copy_campaign, edit, line_of
from tests.cli import wavecast
from tests.fuzz_cases import no_hang

# These commands change state: they run as an account with every role (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("signed_in")

MESSAGE = "messages/hello/youth.nl.md"
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


@pytest.fixture
def camp(tmp_path: Path) -> Path:
    return copy_campaign(tmp_path)


def validate(capsys: pytest.CaptureFixture[str], camp: Path) -> str:
    """What `wavecast validate` says, having made sure it failed, quickly, without a traceback."""
    with no_hang(20, "wavecast validate"):
        result = wavecast(capsys, "validate", str(camp))
    assert result.code == 1, result.out + result.err
    return result.err


def refusal(err: str, where: str) -> str:
    """The one error line that starts at `where` (FILE:LINE:COLUMN: ...)."""
    [found] = [line for line in err.splitlines() if where in line]
    return found


def _replace(path: Path, make: Callable[[Path], None]) -> None:
    path.unlink()
    make(path)


# ---------------------------------------------------------------------------- message files

MESSAGE_PAYLOADS: dict[str, tuple[Callable[[Path], None], str]] = {
    "a link to /etc/passwd": (lambda p: p.symlink_to("/etc/passwd"), "leads outside the campaign directory"),
    "a link to /dev/zero": (lambda p: p.symlink_to("/dev/zero"), "leads outside the campaign directory"),
    "a FIFO": (lambda p: os.mkfifo(p), "not a regular file (a FIFO)"),
    "a link to a FIFO inside": (
        lambda p: (os.mkfifo(p.parent / "pipe"), p.symlink_to(p.parent / "pipe")),
        "not a regular file (a FIFO)",
    ),
    "a directory": (lambda p: p.mkdir(), "not a regular file (a directory)"),
    "a link loop": (lambda p: p.symlink_to(p), "cannot be resolved"),
    "a link out through a linked folder": (
        lambda p: (p.parent / "out").symlink_to("/etc") or p.symlink_to(p.parent / "out" / "hostname"),
        "leads outside the campaign directory",
    ),
    "an oversized file": (
        lambda p: p.write_bytes(b"---\nsubject: s\npreheader: p\n---\n" + b"x" * TEXT_LIMIT),
        f"limit {TEXT_LIMIT} bytes",
    ),
}


@pytest.mark.parametrize("payload", list(MESSAGE_PAYLOADS))
def test_a_message_file_that_is_no_file_of_the_campaign_is_refused_at_its_template_line(
    camp: Path, capsys: pytest.CaptureFixture[str], payload: str
) -> None:
    make, reason = MESSAGE_PAYLOADS[payload]
    _replace(camp / MESSAGE, make)
    err = validate(capsys, camp)
    line = line_of(camp / "campaign.yaml", "template: hello/youth")
    assert reason in refusal(err, f"campaign.yaml:{line}:19: {MESSAGE}: "), err
    assert "root:" not in err  # nothing of /etc/passwd was read


@pytest.mark.parametrize(
    ("template", "reason"),
    [
        ("hello/../../../../etc/passwd", "'..' is not allowed"),
        ("hello/..", "'..' is not allowed"),
        ("hello/" + "a" * 300, "the file name is too long"),
    ],
)
def test_a_template_name_that_leaves_the_messages_folder_is_refused_at_its_line(
    camp: Path, capsys: pytest.CaptureFixture[str], template: str, reason: str
) -> None:
    edit(camp / "campaign.yaml", "template: hello/youth", f"template: {template}")
    err = validate(capsys, camp)
    line = line_of(camp / "campaign.yaml", f"template: {template}")
    assert f"campaign.yaml:{line}:19: template {template!r}: {reason}" in err, err


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda p: p.symlink_to("/etc/passwd"), "leads outside the campaign directory"),
        (lambda p: os.mkfifo(p), "not a regular file (a FIFO)"),
        (lambda p: p.write_bytes(b"schema_version: 1\n#" + b"x" * (2 * 1024 * 1024)), "file too large"),
    ],
    ids=["link out", "FIFO", "oversized"],
)
def test_campaign_yaml_itself_must_be_a_regular_file_inside(
    camp: Path, capsys: pytest.CaptureFixture[str], make: Callable[[Path], None], reason: str
) -> None:
    _replace(camp / "campaign.yaml", make)
    err = validate(capsys, camp)
    assert reason in refusal(err, "campaign.yaml:1:1: "), err


# ---------------------------------------------------------------------------- images


def _image(camp: Path, src: str) -> int:
    """Point the message's banner at src; the line the refusal must name."""
    edit(camp / MESSAGE, 'src: "https://example.org/banner.png"', f"src: {src}")
    return line_of(camp / MESSAGE, f"src: {src}")


def _sparse(path: Path, size: int) -> None:
    with path.open("wb") as handle:
        handle.truncate(size)  # no bytes written: the size check must come before any read


IMAGE_PAYLOADS: dict[str, tuple[str, Callable[[Path], None] | None, str]] = {
    "..": ('"../../../../etc/passwd.png"', None, "'..' is not allowed"),
    "absolute": ('"/etc/passwd"', None, "an absolute path"),
    "backslash": ('"images\\\\..\\\\..\\\\x.png"', None, "not '\\'"),
    "link out": ('"images/out.png"', lambda p: p.symlink_to("/etc/passwd"), "leads outside"),
    "link to /dev/zero": ('"images/zero.png"', lambda p: p.symlink_to("/dev/zero"), "leads outside"),
    "FIFO": ('"images/pipe.png"', lambda p: os.mkfifo(p), "not a regular file (a FIFO)"),
    "oversized": ('"images/huge.png"', lambda p: _sparse(p, IMAGE_LIMIT + 1), f"limit {IMAGE_LIMIT} bytes"),
    "not an image": ('"images/notes.txt"', lambda p: p.write_text("x"), "not an image file"),
}


@pytest.mark.parametrize("payload", list(IMAGE_PAYLOADS))
def test_an_image_that_is_no_image_of_the_campaign_is_refused_at_its_line(
    camp: Path, capsys: pytest.CaptureFixture[str], payload: str
) -> None:
    src, make, reason = IMAGE_PAYLOADS[payload]
    (camp / "images").mkdir()
    if make is not None:
        make(camp / src.strip('"'))
    line = _image(camp, src)
    err = validate(capsys, camp)
    assert f"{MESSAGE}:{line}:" in err and reason in err, err


def test_an_image_named_in_the_body_is_refused_at_its_body_line(camp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (camp / "images").mkdir()
    os.mkfifo(camp / "images" / "pipe.png")
    (camp / "images" / "ok.png").write_bytes(PNG)
    edit(camp / MESSAGE, "This is the **youth** message", "![ok](images/ok.png)\n\n![pipe](images/pipe.png)\n\nThis")
    err = validate(capsys, camp)
    assert f"{MESSAGE}:{line_of(camp / MESSAGE, '](images/pipe.png)')}:" in err and "FIFO" in err, err
    assert "images/ok.png" not in err


def test_a_name_with_a_nul_byte_is_refused_at_its_line(camp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    line = _image(camp, '"images/a\\0.png"')
    err = validate(capsys, camp)
    assert f"{MESSAGE}:{line}:" in err, err


def test_files_inside_the_campaign_still_load_through_links(camp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The guard is about where a name leads, not about links as such."""
    (camp / "images").mkdir()
    (camp / "images" / "banner.png").write_bytes(PNG)
    (camp / "images" / "same.png").symlink_to(camp / "images" / "banner.png")
    shared = camp / "messages" / "shared.nl.md"
    (camp / MESSAGE).rename(shared)
    (camp / MESSAGE).symlink_to(shared)
    _image(camp, '"images/same.png"')
    result = wavecast(capsys, "validate", str(camp))
    assert result.code == 0, result.err


def test_a_request_file_that_is_a_fifo_is_refused_without_hanging(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], camp: Path
) -> None:
    fifo = tmp_path / "request.yaml"
    os.mkfifo(fifo)
    with no_hang(20, "initiatives submit"):
        result = wavecast(capsys, "initiatives", "submit", str(fifo), "--campaign", str(camp))
    assert result.code == 1 and "request.yaml:1:1: not a regular file (a FIFO)" in result.err, result.err
