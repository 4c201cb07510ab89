"""Each contact's own clock: the time zone a contact's messages are timed in.

A contact's explicit zone (Contact.timezone, e.g. from an imported TIMEZONE column)
wins; else its phone number's, where phonenumbers' time-zone data gives it exactly
one zone (+52 55… is Mexico City; a Spanish mobile could be in the Canaries or in
Madrid, so none); else None, and the sender's zone applies (a campaign's).

Asked for every message at send time: the answer comes from a longest-prefix lookup
in phonenumbers' table, not from parsing the number, and is cached.
"""

import functools
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from phonenumbers.phonenumberutil import is_number_type_geographical
from phonenumbers.tzdata import TIMEZONE_DATA, TIMEZONE_LONGEST_PREFIX

_COUNTRY_CODES = phonenumbers.COUNTRY_CODE_TO_REGION_CODE


def contact_zone(phone: str, timezone: str | None = "") -> str | None:
    """The IANA zone a contact's messages are timed in: ``timezone`` if it is a
    known zone, else the zone of ``phone`` (E.164) when it has exactly one; None
    when neither says (the caller falls back to its own zone)."""
    if timezone and zone_known(timezone):
        return timezone
    return phone_zone(phone) if phone else None


@functools.lru_cache(maxsize=1024)
def zone_known(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


@functools.lru_cache(maxsize=1024)
def _country_zones(code: str) -> tuple[str, ...]:
    return tuple(TIMEZONE_DATA.get(code, ()))


@functools.lru_cache(maxsize=65536)
def phone_zone(phone: str) -> str | None:
    """The one time zone of the E.164 number ``phone``, or None when its number
    maps to several zones or none (the same answer as phonenumbers'
    time_zones_for_number when that gives a single zone)."""
    digits = phone[1:] if phone.startswith("+") else phone
    if not (digits.isascii() and digits.isdigit()):
        return None
    code = next(
        (digits[:size] for size in (1, 2, 3) if int(digits[:size]) in _COUNTRY_CODES),
        None,
    )
    if code is None:
        return None
    zones: tuple[str, ...] = ()
    for size in range(min(TIMEZONE_LONGEST_PREFIX, len(digits)), 0, -1):
        found = TIMEZONE_DATA.get(digits[:size])
        if found is not None:
            zones = tuple(found)
            break
    if len(zones) != 1:
        return None
    country = _country_zones(code)
    if country == zones:
        return zones[0]  # the number's type cannot change the answer
    # A number not tied to a place (a mobile in most countries, a toll-free
    # number) has its country's zones, not its prefix's: its type decides, read
    # from the number's digits without parsing them.
    national = digits[len(code) :]
    if not national or national[0] == "0":
        try:
            number = phonenumbers.parse("+" + digits)
        except phonenumbers.NumberParseException:
            return None
    else:
        number = phonenumbers.PhoneNumber(
            country_code=int(code), national_number=int(national)
        )
    kind = phonenumbers.number_type(number)
    if kind == phonenumbers.PhoneNumberType.UNKNOWN:
        return None
    return zones[0] if is_number_type_geographical(kind, int(code)) else None
