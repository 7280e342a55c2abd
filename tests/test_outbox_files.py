"""The outbox's one-file-per-message writers (the embedded default's .eml, the JSON dry run of the
HTTP channels): a disk that refuses a file is a transient failure the chunk waits out, never an
OSError that ends the chunk with a traceback, and it leaves no half-written file behind."""

from __future__ import annotations

from pathlib import Path

import pytest

from campaign.channel_contract import Outgoing, TransientError
from campaign.json_messengers import JsonFileMessenger
from campaign.mail_transport import FileTransport


def test_a_message_is_written_whole_and_a_retry_overwrites_it(tmp_path: Path) -> None:
    transport = FileTransport(tmp_path / "email")
    transport.send("from@example.org", "ana@example.org", b"first", key="run-1/7")
    transport.send("from@example.org", "ana@example.org", b"again", key="run-1/7")
    assert [p.name for p in (tmp_path / "email" / "run-1").iterdir()] == ["7.eml"]
    assert (tmp_path / "email" / "run-1" / "7.eml").read_bytes() == b"again"


def test_an_outbox_that_cannot_be_written_is_a_transient_failure(tmp_path: Path) -> None:
    blocked = tmp_path / "outbox"
    blocked.write_text("a file where the outbox directory should be")
    with pytest.raises(TransientError, match="e-mail outbox not writable"):
        FileTransport(blocked / "email").send("from@example.org", "ana@example.org", b"x", key="run-1/7")
    with pytest.raises(TransientError, match="SMS outbox not writable"):
        JsonFileMessenger(blocked / "sms", "SMS").push(Outgoing("run-1/8", "+32470123456", b"{}"))


def test_a_refused_write_leaves_no_temporary_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def full(*_args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("os.replace", full)  # the disk fills between the write and the rename
    with pytest.raises(TransientError, match="No space left on device"):
        FileTransport(tmp_path / "email").send("from@example.org", "ana@example.org", b"x", key="run-1/7")
    assert [p for p in (tmp_path / "email").rglob("*") if p.is_file()] == []
