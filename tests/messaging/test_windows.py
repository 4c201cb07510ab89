import datetime as dt

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
