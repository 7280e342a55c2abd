"""The benchmark's django-post-office peer, without downloading it: its pins, where its environment
lives, when it is (re)created, the content it is given, and how the summary shows a target that
nothing measured. Running the peer itself needs its environment (Django from PyPI), so that part
is `python -m bench.post_office_comparison`, not the suite."""

from __future__ import annotations

import email
import email.policy
import subprocess

import pytest

from bench import post_office_comparison as comparison
from bench.__main__ import Ratio, issue_17
from bench.wave_throughput import _segments
from tests.conftest import EXAMPLES, ROOT


def test_every_requirement_of_the_peer_is_pinned() -> None:
    lines = [line.strip() for line in comparison.REQUIREMENTS.read_text(encoding="utf-8").splitlines()]
    requirements = [line for line in lines if line and not line.startswith("#")]
    assert any(line.lower().startswith("django-post_office==") for line in requirements)
    assert any(line.lower().startswith("django==") for line in requirements)
    unpinned = [line for line in requirements if "==" not in line]
    assert not unpinned, f"not pinned: {unpinned}"


def test_the_peer_environment_is_ignored_by_git() -> None:
    python = comparison.VENV / "bin" / "python"
    result = subprocess.run(
        ["git", "check-ignore", "-q", str(python.relative_to(ROOT))], cwd=ROOT, capture_output=True, check=False
    )
    assert result.returncode == 0, f"{python.relative_to(ROOT)} would be committed"


def test_a_missing_or_stale_environment_is_not_created_when_that_is_not_allowed(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(comparison.PeerUnavailable, match="--setup"):
        comparison.peer_python(create=False, venv=tmp_path)
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "python").write_text("", encoding="ascii")
    (tmp_path / ".requirements-sha256").write_text("pins of another day\n", encoding="ascii")
    with pytest.raises(comparison.PeerUnavailable):
        comparison.peer_python(create=False, venv=tmp_path)
    (tmp_path / ".requirements-sha256").write_text(comparison.requirements_digest() + "\n", encoding="ascii")
    assert comparison.peer_python(create=False, venv=tmp_path) == tmp_path / "bin" / "python"


def test_the_peer_gets_wavecasts_own_content_with_the_personal_fields_left_open() -> None:
    directory = EXAMPLES / "smartnation"
    content = comparison.peer_content(directory)
    _bundle, segments = _segments(str(directory))
    assert sorted(content["parts"]) == sorted(segments) == sorted(content["languages"])
    for lang, part in content["parts"].items():
        for body in (part["text"], part["html"]):
            assert comparison.NAME_MARK in body
            assert comparison.LINK_MARK in body
        filled = {
            key: part[key].replace(comparison.NAME_MARK, "Ann").replace(comparison.LINK_MARK, "t1")
            for key in ("text", "html")
        }
        ours = email.message_from_bytes(
            segments[lang].personalise(
                "a@example.org",
                {"first_name": "Ann", "organisation_name": ""},
                comparison.UNSUBSCRIBE_BASE + "t1",
                "<a@b>",
            ),
            policy=email.policy.default,
        )
        assert filled["html"] == ours.get_body(("html",)).get_content()  # type: ignore[union-attr]
        assert filled["text"] == ours.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        assert part["subject"] == str(ours["Subject"])


def test_a_target_of_issue_17_that_nothing_measured_is_shown_as_not_measured() -> None:
    measured = [
        Ratio("throughput vs wire", 0.7, ">= 0.85", False),
        Ratio("throughput vs naive", 5.5, ">= 5.00", True),
        Ratio("relay 20 ms x 4 vs ideal", 0.6, ">= 0.80", False),
        Ratio("ledger vs raw insert", 1.5, ">= 0.50", True),
    ]
    rows = issue_17(measured, {"post_office": "skipped: no environment"})
    lines = {row.name: row.line() for row in rows}
    assert lines["ledger vs raw insert"].split()[-1] == "met"
    assert rows[0].issue == "17" and rows[3].issue == ""
    assert "MISSED" in lines["relay 20 ms x 4 vs ideal"]
    assert "NOT MEASURED: skipped: no environment" in lines["throughput vs django-post-office"]
    assert "NOT MEASURED: not run" in lines["first message at each size vs 2 s"]
    assert not any(row.met for row in rows if row.value is None)
