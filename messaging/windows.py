"""Active hours: the daily window in which a channel may send (M2, seed 003)."""

import datetime as dt
from zoneinfo import ZoneInfo


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
    clock = local.time().replace(tzinfo=None)
    # A window ending before it starts runs across midnight.
    is_open = start <= clock < end if start < end else clock >= start or clock < end
    if is_open:
        return None
    opening = dt.datetime.combine(local.date(), start, tzinfo=zone)
    if opening <= local:
        opening = dt.datetime.combine(
            local.date() + dt.timedelta(days=1), start, tzinfo=zone
        )
    return opening.astimezone(dt.UTC)
