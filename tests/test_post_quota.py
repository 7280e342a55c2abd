"""A platform's published quota is counted on our side, shared by every worker: in Redis when a
broker is set, in the process otherwise. Spending is all or nothing across the windows, and a
refusal says how long until the full window ends."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from campaign.mail_transport import TransientError
from campaign.post_quota import LocalQuota, Quota, RedisQuota, Window
from campaign.settings import get_settings
from tests.conftest import reset_caches

HOUR, DAY = 3600, 86400
Make = Callable[[tuple[Window, ...]], Quota]


@pytest.fixture(params=["local", "redis"])
def make(request: pytest.FixtureRequest) -> Make:
    """A counter as one worker holds it; every call is another worker on the same counters."""
    if request.param == "local":
        LocalQuota._used.clear()
        return lambda windows: LocalQuota("bluesky", windows)
    url = request.getfixturevalue("redis_url")
    reset_caches()
    prefix = get_settings().redis_prefix
    return lambda windows: RedisQuota(url, prefix, "bluesky", windows)


def test_two_workers_spend_one_quota_and_the_refusal_names_the_window(make: Make) -> None:
    windows = (Window(HOUR, 9), Window(DAY, 12))
    first, second = make(windows), make(windows)
    first.take("nl", 3)
    second.take("nl", 3)
    first.take("nl", 3)  # 9 of 9 this hour
    with pytest.raises(TransientError) as refused:
        second.take("nl", 3)
    assert "quota of account 'nl' spent: 9 points per 3600 s" in str(refused.value)
    assert refused.value.retry_after is not None and 0 < refused.value.retry_after <= HOUR
    second.take("fr", 3)  # another account counts on its own


def test_a_refused_take_spends_nothing_in_any_window(make: Make) -> None:
    make((Window(HOUR, 100), Window(DAY, 6))).take("nl", 6)  # the day is spent, the hour is not
    for _ in range(3):
        with pytest.raises(TransientError, match="6 points per 86400 s"):
            make((Window(HOUR, 100), Window(DAY, 6))).take("nl", 3)
    # The hour's counter holds the 6 points taken, not the 9 refused: 3 more fit in 9.
    make((Window(HOUR, 9),)).take("nl", 3)
    with pytest.raises(TransientError, match="9 points per 3600 s"):
        make((Window(HOUR, 9),)).take("nl", 1)
