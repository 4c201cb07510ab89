"""Active hours: the daily window in which a channel, or a batch of messages (a
campaign's), may send; a message goes out when both are open."""

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings


def window_opens_at(
    *,
    start: dt.time | None,
    end: dt.time | None,
    timezone: str,
    now: dt.datetime,
) -> dt.datetime | None:
    """Return None when sending is allowed at ``now``, else when the window next opens.

    A window whose end is earlier than its start runs across midnight (22:00–06:00).
    No window (both ends None) means any hour.
    """
    if start is None or end is None:
        return None
    zone = ZoneInfo(timezone)
    local = now.astimezone(zone)
    if _is_open(start, end, local.time()):
        return None
    # The first time after ``now`` the clock shows ``start``, compared in UTC: times
    # of one zone compare by their clock alone, and in the hour repeated when clocks
    # go back the first 23:30 may be past while the second is to come. A start the
    # clocks skip is read as that long after the change (fold 0): later than the
    # window opened, but inside it, or the next day's when it was skipped whole.
    for days in range(4):
        day = local.date() + dt.timedelta(days=days)
        for fold in (0, 1):
            opening = dt.datetime.combine(day, start, tzinfo=zone).replace(fold=fold)
            at = opening.astimezone(dt.UTC)
            if at > now and _is_open(start, end, at.astimezone(zone).time()):
                return at
    raise AssertionError(f"no opening of {start}-{end} {timezone} after {now}")


def _is_open(start: dt.time, end: dt.time, clock: dt.time) -> bool:
    # A window ending before it starts runs across midnight.
    return start <= clock < end if start < end else clock >= start or clock < end


@dataclass(frozen=True)
class Window:
    """A daily sending window (a channel's or a campaign's), in its time zone."""

    start: dt.time
    end: dt.time
    timezone: str
    owner: str  # whose window, for messages: "the channel's", "the campaign's"
    # Read in each contact's own zone (audiences.zones), ``timezone`` for contacts
    # without one.
    in_contact_zone: bool = False

    @classmethod
    def of(
        cls,
        start: dt.time | None,
        end: dt.time | None,
        timezone: str,
        owner: str,
        in_contact_zone: bool = False,
    ) -> "Window | None":
        if start is None or end is None:
            return None
        return cls(start, end, timezone, owner, in_contact_zone)

    def in_zone(self, zone: str | None) -> "Window":
        """This window read in ``zone`` if it is read in each contact's zone and
        ``zone`` is given; else itself."""
        if not self.in_contact_zone or not zone or zone == self.timezone:
            return self
        return Window(self.start, self.end, zone, self.owner)

    def __str__(self) -> str:
        if self.in_contact_zone:
            return (
                f"{self.start:%H:%M}–{self.end:%H:%M} in each contact's zone "
                f"(else {self.timezone})"
            )
        return f"{self.start:%H:%M}–{self.end:%H:%M} {self.timezone}"

    def is_open(self, now: dt.datetime) -> bool:
        clock = now.astimezone(ZoneInfo(self.timezone)).time()
        return _is_open(self.start, self.end, clock)

    def opens_at(self, now: dt.datetime) -> dt.datetime | None:
        return window_opens_at(
            start=self.start, end=self.end, timezone=self.timezone, now=now
        )


class WindowsNeverMeet(Exception):
    """Two sending windows that are never open at the same time."""


def windows_open_at(
    windows: "Sequence[Window | None]", now: dt.datetime
) -> dt.datetime | None:
    """Return None when every window is open at ``now``, else the first moment they
    all are. Raise WindowsNeverMeet when that moment does not come within a week
    (a campaign's window and its channel's that do not overlap)."""
    present = [window for window in windows if window is not None]
    moment = now
    # Each step goes on to a later opening of one of the windows, each opening about
    # once a day: enough steps for the days looked at, so windows that meet only
    # once a clock has changed days from now are still found.
    for _ in range(10 * len(present) + 2):
        openings = [
            opening for window in present if (opening := window.opens_at(moment))
        ]
        if not openings:
            return None if moment == now else moment
        moment = max(openings)
        if moment - now > dt.timedelta(days=8):
            break
    raise WindowsNeverMeet(
        "never sent: "
        + " and ".join(f"{w.owner} active hours ({w})" for w in present)
        + " are never open at the same time"
    )


class WithHours(Protocol):
    """What has active hours of its own: a channel."""

    pk: int

    @property
    def window(self) -> Window | None: ...


@dataclass
class ActiveHours:
    """When a message may go out: its channel's window and its batch's (``own``),
    both open, and not before its batch's ``send_at_local`` (a wall-clock time).
    The one answer to "when may this go out" — the fan-out asks it for a wait's
    start, a chunk before its claim, and every message before its send. Each
    channel's windows are gathered once: they are checked for every message, and
    gathering them cost more than the check.

    The batch's window when ``own.in_contact_zone``, and ``send_at_local``, are
    read in the contact's zone (``zone`` below, audiences.zones.contact_zone);
    contacts without one, and the channel's own hours, keep their windows' zone
    (``send_at_local``: ``local_zone``)."""

    own: Window | None = None
    of_channel: dict[tuple[int, str | None], list[Window]] = field(default_factory=dict)
    send_at_local: dt.datetime | None = None  # naive: a wall-clock time
    local_zone: str = ""

    @property
    def per_contact(self) -> bool:
        """Whether the answer depends on the contact's zone."""
        return self.send_at_local is not None or bool(
            self.own is not None and self.own.in_contact_zone
        )

    def opens_at(
        self, channel: WithHours, now: dt.datetime, zone: str | None = None
    ) -> dt.datetime | None:
        """None when a message on ``channel`` (to a contact in ``zone``) may go at
        ``now``, else the first moment it may. Raise WindowsNeverMeet when that
        never comes."""
        key = (channel.pk, zone if self.per_contact else None)
        windows = self.of_channel.get(key)
        if windows is None:
            own = self.own.in_zone(zone) if self.own is not None else None
            windows = self.of_channel[key] = [
                w for w in (channel.window, own) if w is not None
            ]
        start = now
        if self.send_at_local is not None:
            local = self.send_at_local.replace(
                tzinfo=ZoneInfo(zone or self.local_zone or zone_default())
            )
            start = max(now, local.astimezone(dt.UTC))
        for window in windows:
            if not window.is_open(start):
                return windows_open_at(windows, start)
        return None if start == now else start


def windows_meet(first: Window | None, second: Window | None) -> bool:
    """Whether the two windows are ever open at the same time (no window: always
    open)."""
    try:
        windows_open_at([first, second], dt.datetime.now(dt.UTC))
    except WindowsNeverMeet:
        return False
    return True


def window_errors(
    start: dt.time | None, end: dt.time | None, timezone: str
) -> dict[str, str]:
    """What is wrong with a window's fields (a model's clean() reports them)."""
    errors: dict[str, str] = {}
    if (start is None) != (end is None):
        errors["active_until"] = "Give both ends of the sending window, or neither."
    elif start is not None and start == end:
        errors["active_until"] = "The window must not start and end at the same time."
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        errors["timezone"] = f"{timezone!r} is not a known time zone."
    return errors


# Whoever sends on channels with active hours of their own (campaigns) says here
# which of theirs a channel's new hours would never meet, each as a sentence for the
# operator: finders are added in AppConfig.ready() by the apps above messaging.
ClashFinder = Callable[[int, Window], Iterable[str]]
clash_finders: list[ClashFinder] = []


def window_clashes(channel_id: int, window: Window) -> Iterator[str]:
    """Why channel ``channel_id`` may not take the active hours ``window``: one
    sentence per sender whose own hours never meet them."""
    for finder in clash_finders:
        yield from finder(channel_id, window)


def zone_default() -> str:
    """The installation's time zone: that of hours saved without one."""
    return settings.TIME_ZONE
