"""Each contact's own clock: the zone of a contact, from its TIMEZONE or its phone."""

import random

import phonenumbers
from phonenumbers.timezone import time_zones_for_number

from audiences.zones import contact_zone, phone_zone


def test_a_contacts_own_zone_wins_over_its_phones() -> None:
    assert contact_zone("+525512345678", "Europe/Madrid") == "Europe/Madrid"


def test_an_unknown_zone_is_ignored_for_the_phones() -> None:
    assert contact_zone("+525512345678", "Mars/Olympus") == "America/Mexico_City"
    assert contact_zone("+525512345678", None) == "America/Mexico_City"


def test_a_phone_gives_its_zone_where_it_has_exactly_one() -> None:
    assert contact_zone("+525512345678") == "America/Mexico_City"
    assert contact_zone("+34912345678") == "Europe/Madrid"
    assert contact_zone("+14155550123") == "America/Los_Angeles"


def test_a_phone_of_several_zones_or_none_gives_none() -> None:
    # A Spanish mobile may be in the Canaries or in Madrid.
    assert contact_zone("+34612345678") is None
    assert contact_zone("") is None
    assert contact_zone("not a phone") is None
    assert contact_zone("+999123") is None


def _numbers(count_per_type: int) -> list[str]:
    """Valid numbers of every region, of the types whose zones differ (mobile,
    fixed line, toll free), around each region's example numbers."""
    rng = random.Random(18)
    kinds = (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE,
        phonenumbers.PhoneNumberType.TOLL_FREE,
    )
    numbers = []
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in kinds:
            example = phonenumbers.example_number_for_type(region, kind)
            if example is None:
                continue
            e164 = phonenumbers.format_number(
                example, phonenumbers.PhoneNumberFormat.E164
            )
            for _ in range(count_per_type):
                digits = "".join(rng.choice("0123456789") for _ in range(4))
                candidate = e164[:-4] + digits
                if phonenumbers.is_valid_number(phonenumbers.parse(candidate)):
                    numbers.append(candidate)
    return numbers


def test_the_phones_zone_is_phonenumbers_answer_when_that_is_one_zone() -> None:
    numbers = _numbers(8)
    assert len(numbers) > 4000
    phone_zone.cache_clear()
    differ = []
    for number in numbers:
        zones = time_zones_for_number(phonenumbers.parse(number))
        expected = zones[0] if len(zones) == 1 and zones[0] != "Etc/Unknown" else None
        if phone_zone(number) != expected:
            differ.append((number, zones, phone_zone(number)))
    assert differ == []
