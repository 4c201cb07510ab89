"""Time zones as operators write them, and as every zone field stores them.

A zone is stored as an IANA name, the one thing every reader (ZoneInfo) understands.
An operator may choose one from the list (America/Bogota) or type an offset as
people write them, "GMT-5", "UTC+05:30", "-05:00", and the field stores the zone
the offset means:

- a whole-hour offset is the fixed zone Etc/GMT∓N, whose sign POSIX flips
  (GMT-5 is Etc/GMT+5), and is shown back as the operator wrote it: "GMT-5";
- an offset with minutes has no Etc zone: it is stored as the place that keeps
  that offset all year (UTC+05:30 is Asia/Kolkata) and shown back by that name.
  An offset no place keeps all year (Newfoundland's −03:30 moves in summer) is
  refused, naming the places that use it now.
"""

import datetime as dt
import functools
import re
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from django import forms
from django.core.exceptions import ValidationError

# "GMT-5", "UTC +05:30", "utc-0500", "-05:00", "+5": the sign, hours, minutes.
_OFFSET = re.compile(
    r"^(?:GMT|UTC)?\s*([+\-−])\s*(\d{1,2})(?:(?::|h|\s*)(\d{2}))?$", re.IGNORECASE
)
_ZERO = {"z", "gmt", "utc", "utc0", "gmt0", "etc/utc", "etc/gmt", "zulu"}
# The place kept for an offset with minutes, where several keep it all year.
_PLACE_FOR = {
    dt.timedelta(hours=3, minutes=30): "Asia/Tehran",
    dt.timedelta(hours=4, minutes=30): "Asia/Kabul",
    dt.timedelta(hours=5, minutes=30): "Asia/Kolkata",
    dt.timedelta(hours=5, minutes=45): "Asia/Kathmandu",
    dt.timedelta(hours=6, minutes=30): "Asia/Yangon",
    dt.timedelta(hours=8, minutes=45): "Australia/Eucla",
    dt.timedelta(hours=9, minutes=30): "Australia/Darwin",
    dt.timedelta(hours=-9, minutes=-30): "Pacific/Marquesas",
}
# Old names kept by tzdata for links (US/Eastern is America/New_York).
_ALIASES = ("Etc/", "SystemV/", "US/", "Canada/", "Brazil/", "Mexico/", "Chile/")
EXAMPLES = "America/Bogota, GMT-5 or UTC+05:30"


@functools.cache
def zone_names() -> tuple[str, ...]:
    """The places an operator chooses from: IANA names of the form Area/City,
    sorted; not the Etc zones (offsets are typed) nor the old aliases (US/…)."""
    return tuple(
        sorted(
            name
            for name in available_timezones()
            if "/" in name and not name.startswith(_ALIASES) and name[0].isupper()
        )
    )


@functools.cache
def _by_lower() -> dict[str, str]:
    return {name.lower(): name for name in available_timezones()}


def _fixed_offset(name: str, year: int) -> dt.timedelta | None:
    """The offset zone ``name`` keeps all of ``year``, or None if it moves."""
    zone = ZoneInfo(name)
    offsets = {
        dt.datetime(year, month, 1, 12, tzinfo=zone).utcoffset() for month in (1, 7)
    }
    return offsets.pop() if len(offsets) == 1 else None


def _offset_text(offset: dt.timedelta) -> str:
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    hours, minutes = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours:02d}:{minutes:02d}"


def _zone_for_offset(offset: dt.timedelta, text: str) -> str:
    if offset == dt.timedelta(0):
        return "UTC"
    if abs(offset) > dt.timedelta(hours=14):
        raise ValidationError(
            f"{text!r} is no time zone: offsets run from GMT-12 to GMT+14."
        )
    minutes = int(offset.total_seconds()) // 60
    if minutes % 60 == 0:
        hours = minutes // 60
        # POSIX signs: Etc/GMT+5 is five hours behind Greenwich.
        return f"Etc/GMT{-hours:+d}"
    year = dt.datetime.now(dt.UTC).year
    place = _PLACE_FOR.get(offset)
    if place is not None and _fixed_offset(place, year) == offset:
        return place
    keeping = [n for n in zone_names() if _fixed_offset(n, year) == offset]
    if keeping:
        return keeping[0]
    now = dt.datetime.now(dt.UTC)
    using = [
        n for n in zone_names() if now.astimezone(ZoneInfo(n)).utcoffset() == offset
    ]
    hint = f" (now used by {', '.join(using[:3])})" if using else ""
    raise ValidationError(
        f"{_offset_text(offset)} is kept all year by no place{hint}: choose the "
        "place itself from the list, so its summer time is followed."
    )


@functools.lru_cache(maxsize=256)
def zone_known_or_none(name: str) -> str | None:
    """``name`` if ZoneInfo can read it, else None (a zone removed from tzdata)."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return name


def zone_parse(text: str) -> str:
    """The IANA zone ``text`` means: a zone name in any case, or an offset
    ("GMT-5" → "Etc/GMT+5", "UTC+05:30" → "Asia/Kolkata"). Raises ValidationError
    saying why when it means none."""
    text = " ".join(text.split())
    if text.lower() in _ZERO or text in ("+0", "-0", "+00:00", "-00:00"):
        return "UTC"
    known = _by_lower().get(text.lower())
    if known is not None:
        return known
    match = _OFFSET.match(text)
    if match is None:
        raise ValidationError(
            f"{text!r} is not a time zone: choose a place from the list or type an "
            f"offset from UTC (e.g. {EXAMPLES})."
        )
    sign, hours, minutes = match.groups()
    if int(minutes or 0) >= 60:
        raise ValidationError(f"{text!r} is not an offset: minutes run up to 59.")
    offset = dt.timedelta(hours=int(hours), minutes=int(minutes or 0))
    return _zone_for_offset(-offset if sign in "-−" else offset, text)


def zone_normal(text: str) -> str:
    """The IANA zone ``text`` means, or ``text`` unchanged when it means none (for
    a model's clean(), whose own check then refuses it)."""
    try:
        return zone_parse(text) if text else text
    except ValidationError:
        return text


def zone_label(name: str) -> str:
    """How a stored zone is shown back: an Etc/GMT zone as the offset people write
    ("Etc/GMT+5" → "GMT-5"), UTC as "UTC", a place by its name."""
    if name in ("UTC", "Etc/UTC", "Etc/GMT", "GMT"):
        return "UTC"
    match = re.fullmatch(r"Etc/GMT([+-])(\d{1,2})", name)
    if match is None:
        return name
    return f"GMT{'-' if match[1] == '+' else '+'}{match[2]}"


def zone_with_offset(name: str) -> str:
    """A zone for a sentence: "America/Bogota (GMT-5)", "GMT-5"."""
    label = zone_label(name)
    try:
        offset = dt.datetime.now(ZoneInfo(name)).utcoffset()
    except (ZoneInfoNotFoundError, ValueError):
        return label
    if label != name or label == "UTC" or offset is None:
        return label
    text = _offset_text(offset).replace("UTC", "GMT").replace(":00", "")
    return f"{label} ({text.replace('+0', '+').replace('-0', '-')})"


class ZoneInput(forms.TextInput):
    """A text box with the zones to choose from as a datalist: the browser offers
    those containing what is typed; an offset is typed as is."""

    template_name = "base/widgets/zone.html"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__({"size": 28, "autocomplete": "off", **(attrs or {})})

    def format_value(self, value: Any) -> str | None:
        return zone_label(value) if value else None

    def get_context(
        self, name: str, value: Any, attrs: dict[str, Any] | None
    ) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        widget = context["widget"]
        widget["list_id"] = f"{widget['attrs'].get('id') or name}_zones"
        widget["attrs"]["list"] = widget["list_id"]
        widget["zones"] = zone_names()
        return context


class ZoneField(forms.CharField):
    """A time zone: a place from the list or an offset, stored as the IANA zone
    it means (zone_parse)."""

    widget = ZoneInput

    def __init__(self, **kwargs: Any) -> None:
        # The admin hands every CharField its plain text box: this field's own
        # widget is what it is for.
        widget = kwargs.get("widget")
        if not (
            isinstance(widget, ZoneInput)
            or (isinstance(widget, type) and issubclass(widget, ZoneInput))
        ):
            kwargs["widget"] = ZoneInput
        super().__init__(**kwargs)
        hint = (
            "Choose a place from the list (type to search) or type an offset "
            "from UTC: GMT-5, UTC+05:30, -05:00."
        )
        # The models' texts predate the offsets: "Etc/GMT+5" is typed "GMT-5" now.
        text = re.sub(
            r" or Etc/GMT\+5(?: \(GMT-5\))?", " or GMT-5", str(self.help_text)
        )
        self.help_text = f"{text} {hint}".strip()

    def to_python(self, value: Any) -> str:
        text = super().to_python(value) or ""
        return zone_parse(text) if text else text
