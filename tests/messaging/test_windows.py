import datetime as dt
from typing import Any

import pytest

from messaging.windows import window_opens_at

UTC = dt.UTC


def opens(start: str | None, end: str | None, now: str, tz: str = "UTC") -> str | None:
    result = window_opens_at(
        start=dt.time.fromisoformat(start) if start else None,
        end=dt.time.fromisoformat(end) if end else None,
        timezone=tz,
        now=dt.datetime.fromisoformat(now).replace(tzinfo=UTC),
    )
    return result.isoformat(timespec="minutes") if result else None


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        ("2026-03-02T12:59", "2026-03-02T13:00+00:00"),  # 07:59 at GMT-5
        ("2026-03-02T13:00", None),  # 08:00 opens
        ("2026-03-03T01:59", None),  # 20:59
        ("2026-03-03T02:00", "2026-03-03T13:00+00:00"),  # 21:00 closes
    ],
)
def test_a_day_window_in_gmt_minus_5(now: str, expected: str | None) -> None:
    assert opens("08:00", "21:00", now, tz="Etc/GMT+5") == expected


def test_a_window_across_midnight() -> None:
    assert opens("22:00", "06:00", "2026-03-02T23:30") is None
    assert opens("22:00", "06:00", "2026-03-02T05:59") is None
    assert opens("22:00", "06:00", "2026-03-02T12:00") == "2026-03-02T22:00+00:00"


def test_no_window_means_any_hour() -> None:
    assert opens(None, None, "2026-03-02T03:00") is None


def window(start: str, end: str, tz: str = "UTC", owner: str = "the campaign's") -> Any:
    from messaging.windows import Window

    return Window(dt.time.fromisoformat(start), dt.time.fromisoformat(end), tz, owner)


def both_open(*windows: Any, now: str) -> str | None:
    from messaging.windows import windows_open_at

    at = dt.datetime.fromisoformat(now).replace(tzinfo=UTC)
    result = windows_open_at(list(windows), at)
    return result.isoformat(timespec="minutes") if result else None


def test_two_windows_send_when_both_are_open() -> None:
    channel = window("08:00", "21:00", owner="channel 'SMS''s")  # UTC
    campaign = window("09:00", "12:00", tz="Etc/GMT+5")  # 14:00-17:00 UTC
    assert both_open(channel, campaign, now="2026-03-02T15:00") is None
    # 03:00 UTC: the channel opens at 08:00, the campaign only at 14:00.
    assert (
        both_open(channel, campaign, now="2026-03-02T03:00") == "2026-03-02T14:00+00:00"
    )
    # 17:00 UTC: the campaign closed; its next opening is tomorrow 14:00.
    assert (
        both_open(channel, campaign, now="2026-03-02T17:00") == "2026-03-03T14:00+00:00"
    )
    # A window across midnight meeting a day window.
    night = window("20:00", "02:00")
    assert both_open(channel, night, now="2026-03-02T10:00") == "2026-03-02T20:00+00:00"
    assert both_open(None, None, now="2026-03-02T10:00") is None
    assert both_open(channel, None, now="2026-03-02T07:00") == "2026-03-02T08:00+00:00"


def test_windows_that_never_meet_say_so() -> None:
    from messaging.windows import WindowsNeverMeet

    channel = window("08:00", "09:00", owner="channel 'SMS''s")
    campaign = window("10:00", "11:00")
    with pytest.raises(WindowsNeverMeet) as refused:
        both_open(channel, campaign, now="2026-03-02T12:00")
    assert str(refused.value) == (
        "never sent: channel 'SMS''s active hours (08:00–09:00 UTC) and the "
        "campaign's active hours (10:00–11:00 UTC) are never open at the same time"
    )


def test_in_the_hour_clocks_repeat_a_window_opens_at_its_second_start() -> None:
    """Santiago turns 00:00 back to 23:00 on 4 April 2027: at the second 23:10 the
    first 23:30 has passed, the second is to come."""
    assert (
        opens("23:30", "07:00", "2027-04-04T03:10", tz="America/Santiago")
        == "2027-04-04T03:30+00:00"
    )


def test_windows_meeting_after_the_hour_clocks_repeat_are_found() -> None:
    """The first 23:30 of the repeated hour is already past: taken for the next
    opening, it sent the two windows back and forth until they 'never met'."""
    channel = window("03:00", "12:00", owner="channel 'SMS''s")
    campaign = window("23:30", "07:00", tz="America/Santiago")
    assert both_open(channel, campaign, now="2027-04-04T03:10") == (
        "2027-04-04T03:30+00:00"
    )


def test_a_window_starting_in_the_hour_clocks_skip_opens_inside_it() -> None:
    """Madrid skips 02:00-03:00 on 28 March 2027: a window from 02:30 is open by
    03:30."""
    opening = opens("02:30", "06:00", "2027-03-27T23:00", tz="Europe/Madrid")
    assert opening == "2027-03-28T01:30+00:00"  # 03:30 CEST


def test_windows_that_meet_once_a_clock_changes_days_away_are_found() -> None:
    """09:00-10:00 in Madrid and 04:00-05:00 in New York touch until New York
    moves its clocks (14 March 2027), and overlap from then: within the week
    looked at, so the messages wait instead of failing."""
    campaign = window("09:00", "10:00", tz="Europe/Madrid")
    channel = window("04:00", "05:00", tz="America/New_York", owner="channel 'SMS''s")
    for now in ("2027-03-09T10:00", "2027-03-08T10:00", "2027-03-07T10:00"):
        assert both_open(channel, campaign, now=now) == "2027-03-14T08:00+00:00"
