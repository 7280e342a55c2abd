"""A save from the web editor as a git commit, where the campaign directory is a git working tree
and `WAVECAST_EDITOR_COMMITS` asks for it: the saved file only (nothing else staged goes with it),
with the person who saved as the author and the campaign's own history kept as it was."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

GIT_SECONDS = 30


def _git(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    git = shutil.which("git")
    if git is None:
        raise FileNotFoundError("git")
    return subprocess.run(
        [git, "-C", str(root), *args], capture_output=True, text=True, timeout=GIT_SECONDS, check=False
    )


def in_work_tree(root: Path) -> bool:
    try:
        return _git(root, "rev-parse", "--is-inside-work-tree").stdout.strip() == "true"
    except (FileNotFoundError, subprocess.TimeoutExpired):
        return False


def commit_file(root: Path, name: str, author: str, message: str) -> str | None:
    """Commit `name` (relative to `root`) alone; None when done, else why not, in one line.

    `author` is "Name <address>". The committer is wavecast, so the history tells the tool that
    wrote the file from the person who changed it."""
    try:
        added = _git(root, "add", "--", name)
        if added.returncode != 0:
            return f"git add: {added.stderr.strip() or added.returncode}"
        done = _git(
            root,
            "-c",
            "user.name=wavecast",
            "-c",
            "user.email=wavecast@localhost",
            "commit",
            "--quiet",
            f"--author={author}",
            "-m",
            message,
            "--only",
            "--",
            name,
        )
    except (FileNotFoundError, subprocess.TimeoutExpired) as exc:
        return f"git did not run: {exc}"
    if done.returncode != 0:
        return f"git commit: {(done.stderr or done.stdout).strip().splitlines()[-1:] or done.returncode}"
    return None
