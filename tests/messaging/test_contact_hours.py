"""Active hours and a send time read in each contact's zone (messaging.windows
ActiveHours, given the contact's zone)."""

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import pytest

from messaging.windows import ActiveHours, Window, WindowsNeverMeet

MADRID = ZoneInfo("Europe/Madrid")
MEXICO = ZoneInfo("America/Mexico_City")
NOON_MEXICO = dt.datetime(2026, 12, 7, 12, tzinfo=MEXICO)  # 19:00 in Madrid


@dataclass
class Channel:
    pk: int
    window: Window | None = None


def contact_hours() -> ActiveHours:
    return ActiveHours(
        Window(
            dt.time(9),
            dt.time(18),
            "America/Mexico_City",
            "the campaign's",
            in_contact_zone=True,
        )
    )


def test_a_window_in_each_contacts_zone_is_read_in_the_contacts_zone() -> None:
    hours = contact_hours()
    assert hours.per_contact
    assert hours.opens_at(Channel(1), NOON_MEXICO, "America/Mexico_City") is None
    assert hours.opens_at(Channel(1), NOON_MEXICO, "Europe/Madrid") == (
        dt.datetime(2026, 12, 8, 9, tzinfo=MADRID)
    )
    # No zone of its own: the window's.
    assert hours.opens_at(Channel(1), NOON_MEXICO, None) is None


def test_the_channels_own_hours_stay_in_the_channels_zone() -> None:
    """The channel sends 08:00–20:00 in Mexico City: at 10:00 in Madrid a Madrid
    contact's window is open, the channel's not until 08:00 in Mexico City."""
    channel = Channel(
        2, Window(dt.time(8), dt.time(20), "America/Mexico_City", "the channel's")
    )
    at = dt.datetime(2026, 12, 7, 3, tzinfo=MEXICO)  # 10:00 in Madrid
    opens = contact_hours().opens_at(channel, at, "Europe/Madrid")
    assert opens == dt.datetime(2026, 12, 7, 8, tzinfo=MEXICO)


def test_hours_that_never_meet_in_a_contacts_zone_say_so() -> None:
    channel = Channel(
        2, Window(dt.time(13), dt.time(20), "America/Mexico_City", "the channel's")
    )
    with pytest.raises(WindowsNeverMeet, match="09:00–18:00 Europe/Madrid"):
        contact_hours().opens_at(channel, NOON_MEXICO, "Europe/Madrid")


def test_a_window_not_in_the_contacts_zone_ignores_it() -> None:
    hours = ActiveHours(
        Window(dt.time(9), dt.time(18), "America/Mexico_City", "the campaign's")
    )
    assert not hours.per_contact
    assert hours.opens_at(Channel(1), NOON_MEXICO, "Europe/Madrid") is None


def test_a_send_time_is_read_in_each_contacts_zone() -> None:
    wall_clock = dt.datetime(2026, 12, 8, 9)  # noqa: DTZ001 - naive on purpose
    hours = ActiveHours(send_at_local=wall_clock, local_zone="America/Mexico_City")
    assert hours.per_contact
    assert hours.opens_at(Channel(1), NOON_MEXICO, "Europe/Madrid") == (
        dt.datetime(2026, 12, 8, 9, tzinfo=MADRID)
    )
    assert hours.opens_at(Channel(1), NOON_MEXICO, None) == (
        dt.datetime(2026, 12, 8, 9, tzinfo=MEXICO)
    )
    later = dt.datetime(2026, 12, 8, 9, 30, tzinfo=MADRID)
    assert hours.opens_at(Channel(1), later, "Europe/Madrid") is None
