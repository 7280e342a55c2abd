"""Wave start times across daylight-saving changes, send windows and blackout dates."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from campaign.bundle import load_bundle
from campaign.timing import allowed, next_allowed, resolve_starts
from tests.campaign_copy import copy_campaign, edit

BRUSSELS_UTC_OFFSET_SUMMER = dt.timedelta(hours=2)


def test_relative_start_keeps_local_time_across_dst_change(tmp_path: Path) -> None:
    camp = copy_campaign(tmp_path)
    # Friday 24 March 2023 10:00 CET; +3 days crosses the switch to CEST on Sunday 26 March.
    edit(camp / "campaign.yaml", "start: 2023-06-12T10:00:00", "start: 2023-03-24T10:00:00")
    edit(camp / "campaign.yaml", 'days: 7, at: "11:00"', "days: 3")
    starts = resolve_starts(load_bundle(camp).spec)
    assert starts["first"].utcoffset() == dt.timedelta(hours=1)
    assert starts["second"].hour == 10
    assert starts["second"].utcoffset() == BRUSSELS_UTC_OFFSET_SUMMER
    assert starts["second"].astimezone(dt.UTC) - starts["first"].astimezone(dt.UTC) == dt.timedelta(days=3, hours=-1)


def test_autumn_change_also_keeps_local_time(tmp_path: Path) -> None:
    camp = copy_campaign(tmp_path)
    edit(camp / "campaign.yaml", "start: 2023-06-12T10:00:00", "start: 2023-10-27T10:00:00")
    edit(camp / "campaign.yaml", 'days: 7, at: "11:00"', "days: 3")
    starts = resolve_starts(load_bundle(camp).spec)
    assert (starts["second"].hour, starts["second"].utcoffset()) == (10, dt.timedelta(hours=1))
    assert starts["second"].astimezone(dt.UTC).hour == 9


def test_next_allowed_skips_blackout_and_weekend(tmp_path: Path) -> None:
    info = load_bundle(copy_campaign(tmp_path)).spec.campaign
    friday_holiday = dt.datetime(2023, 7, 21, 9, 0, tzinfo=info.tz)
    assert not allowed(info, friday_holiday)
    assert next_allowed(info, friday_holiday) == dt.datetime(2023, 7, 24, 8, 0, tzinfo=info.tz)


def test_next_allowed_waits_for_the_window_to_open(tmp_path: Path) -> None:
    info = load_bundle(copy_campaign(tmp_path)).spec.campaign
    early = dt.datetime(2023, 6, 13, 6, 30, tzinfo=info.tz)
    assert next_allowed(info, early) == dt.datetime(2023, 6, 13, 8, 0, tzinfo=info.tz)
    late = dt.datetime(2023, 6, 13, 21, 0, tzinfo=info.tz)
    assert next_allowed(info, late) == dt.datetime(2023, 6, 14, 8, 0, tzinfo=info.tz)
    inside = dt.datetime(2023, 6, 13, 12, 0, tzinfo=info.tz)
    assert next_allowed(info, inside) == inside
