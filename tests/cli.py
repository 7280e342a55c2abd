"""Run the `wavecast` entry point in-process, as a user would, and capture what it prints."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from frontends.cli import main


@dataclass
class Result:
    code: int
    out: str
    err: str


def wavecast(capsys: pytest.CaptureFixture[str], *args: str) -> Result:
    capsys.readouterr()
    saved = sys.argv
    sys.argv = ["wavecast", *args]
    code = 0
    try:
        main()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        sys.argv = saved
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err and "Traceback" not in captured.out
    return Result(code, captured.out, captured.err)


def wavecast_process(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run `python -m frontends ARGS` in a child process, with the test's environment and the
    same checkout's code as the test (not whatever checkout the virtualenv was installed from)."""
    return subprocess.run(
        [sys.executable, "-m", "frontends", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)},
        timeout=120,
        check=False,
    )
