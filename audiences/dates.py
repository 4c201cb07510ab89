"""Dates as custom data holds them, written YYYY-MM-DD, and why a text is not one."""

import calendar
import re

ISO_PARTS = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")


def iso_date_problem(text: str) -> str | None:
    """None for a real day written YYYY-MM-DD; otherwise the reason, naming the text:
    written another way, or written so but no day of the calendar (month 13, a
    February 30th)."""
    found = ISO_PARTS.match(text)
    if found is None:
        return f"{text!r} is not a date written YYYY-MM-DD (e.g. 2016-12-25)"
    year, month, day = (int(part) for part in found.groups())
    if year < 1:
        return f"{text!r} is not a real date: there is no year 0"
    if not 1 <= month <= 12:
        return f"{text!r} is not a real date: there is no month {month}"
    days = calendar.monthrange(year, month)[1]
    if not 1 <= day <= days:
        return (
            f"{text!r} is not a real date: {calendar.month_name[month]} {year} "
            f"has {days} days"
        )
    if len(found.group(2)) < 2 or len(found.group(3)) < 2:
        return (
            f"{text!r} is not written YYYY-MM-DD: write it "
            f"{year:04d}-{month:02d}-{day:02d}"
        )
    return None
