"""The layers point one way. import-linter checks the packages (contracts in pyproject.toml, run
by `make test`); worker.py is a single module, which import-linter cannot take as a root, so its
rule is checked here: the Celery application needs the send path only, waves and campaign."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIRST_PARTY = {"frontends", "waves", "audiences", "accounts", "campaign"}
WORKER_MAY_USE = {"waves", "campaign"}


def first_party_imports(path: Path) -> set[str]:
    """The top-level first-party packages a module imports, wherever the import sits."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = (
            [alias.name for alias in node.names]
            if isinstance(node, ast.Import)
            else [node.module]
            if isinstance(node, ast.ImportFrom) and node.module and not node.level
            else []
        )
        found.update(top for name in names if (top := name.split(".")[0]) in FIRST_PARTY)
    return found


def test_worker_imports_only_waves_and_campaign() -> None:
    used = first_party_imports(ROOT / "worker.py")
    assert "waves" in used, "worker.py no longer imports the tasks: this test would prove nothing"
    assert used <= WORKER_MAY_USE, f"worker.py imports {sorted(used - WORKER_MAY_USE)}"


def test_the_import_check_sees_every_form_of_import(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text(
        "import os\nimport frontends.cli\nfrom audiences import consent\n"
        "def f():\n    from waves.tasks import app\n    import campaign.db as db\nfrom . import sibling\n",
        encoding="utf-8",
    )
    assert first_party_imports(module) == {"frontends", "audiences", "waves", "campaign"}
