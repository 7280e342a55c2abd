"""Helpers for tests that break a copy of a campaign and look at what validation says."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.conftest import ROOT

MINIMAL = ROOT / "tests" / "fixtures" / "minimal"


def copy_campaign(tmp_path: Path, source: Path = MINIMAL) -> Path:
    target = tmp_path / source.name
    shutil.copytree(source, target)
    return target


def edit(path: Path, old: str, new: str, count: int = 1) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, count), encoding="utf-8")


def line_of(path: Path, needle: str) -> int:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in {path}")
