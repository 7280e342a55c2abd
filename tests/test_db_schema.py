"""A database whose schema is behind is named as such, with the command that fixes it."""

from __future__ import annotations

import pytest

from tests.cli import wavecast
from tests.conftest import _postgres_schema_url, reset_caches


def test_postgres_schema_behind_names_the_upgrade_command(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    urls = _postgres_schema_url()
    url = next(urls)
    try:
        monkeypatch.setenv("WAVECAST_DATABASE_URL", url)
        reset_caches()
        behind = wavecast(capsys, "status")
        assert behind.code == 3
        assert "run `wavecast db upgrade`" in behind.err
        assert wavecast(capsys, "db", "upgrade").code == 0
        reset_caches()
        assert wavecast(capsys, "status").code == 0
    finally:
        urls.close()


def test_unreachable_database_is_a_message_not_a_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("WAVECAST_DATABASE_URL", "postgresql://nobody@127.0.0.1:9/none")
    reset_caches()
    result = wavecast(capsys, "status")
    assert result.code == 3
    assert "cannot reach the database" in result.err
