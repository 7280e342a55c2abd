"""Headers mailbox software reads: proofs never share a Message-ID, and Date has a numeric zone."""

from __future__ import annotations

import datetime as dt
import re
from email.utils import parsedate_to_datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from campaign.mime import date_header
from tests.campaign_copy import copy_campaign
from tests.cli import wavecast
from tests.conftest import reset_caches
from tests.smtp_sink import SmtpSink

NUMERIC_DATE = re.compile(rb"Date: [A-Z][a-z]{2}, \d{1,2} [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d [+-]\d{4}\r\n")


def test_date_header_keeps_the_local_offset_as_a_number() -> None:
    brussels = ZoneInfo("Europe/Brussels")
    winter = dt.datetime(2023, 1, 16, 9, 0, tzinfo=brussels)
    summer = dt.datetime(2023, 6, 12, 10, 0, tzinfo=brussels)
    assert date_header(winter) == b"Date: Mon, 16 Jan 2023 09:00:00 +0100\r\n"
    assert date_header(summer) == b"Date: Mon, 12 Jun 2023 10:00:00 +0200\r\n"
    assert date_header(dt.datetime(2023, 6, 12, 8, 0, tzinfo=dt.UTC)).endswith(b" +0000\r\n")


def test_date_header_of_now_is_numeric_and_now() -> None:
    before = dt.datetime.now(dt.UTC).replace(microsecond=0)
    line = date_header(None)
    after = dt.datetime.now(dt.UTC)
    assert NUMERIC_DATE.fullmatch(line), line
    assert not line.endswith(b"-0000\r\n")  # "-0000" would mean "zone unknown"
    assert before <= parsedate_to_datetime(line[6:].decode().strip()) <= after


@pytest.mark.usefixtures("signed_in")  # the command acts as an account
def test_two_proof_sends_carry_new_message_ids(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sink = SmtpSink()
    sink.start()
    try:
        monkeypatch.setenv("WAVECAST_SMTP_URL", sink.url)
        reset_caches()
        camp = copy_campaign(tmp_path)
        for _ in range(2):
            result = wavecast(capsys, "send", str(camp), "--wave", "first", "--test-to", "proofs@example.org")
            assert result.code == 0, result.err
        sink.wait_for(16, timeout=20)
        received = sink.received
    finally:
        sink.stop()
    ids = [r.parsed()["Message-ID"] for r in received]
    assert len(ids) == 16 and len(set(ids)) == 16, ids
    assert all(NUMERIC_DATE.search(r.raw) for r in received)
