import pytest
from django.core.exceptions import ValidationError

from audiences.models import Contact
from audiences.phones import normalize_phone


@pytest.mark.parametrize(
    "raw",
    [
        "+525500998877",
        "+52 55 0099 8877",
        "5500998877",
        525500998877.0,
        "525500998877.0",
    ],
)
def test_what_operators_and_spreadsheets_write_becomes_e164(raw: object) -> None:
    assert normalize_phone(raw) == "+525500998877"


@pytest.mark.parametrize("raw", ["", "hello", "+52 1", "+999123"])
def test_a_number_that_is_not_a_phone_is_refused(raw: str) -> None:
    with pytest.raises(ValidationError):
        normalize_phone(raw)


@pytest.mark.django_db
def test_a_contact_is_stored_with_its_e164_number() -> None:
    contact = Contact(phone="55 0099 8877", data={"NOMBRE": "Carlos"})
    contact.full_clean()
    contact.save()
    assert Contact.objects.get().phone == "+525500998877"


@pytest.mark.django_db
def test_an_invalid_contact_is_refused_with_a_message_on_the_phone_field() -> None:
    with pytest.raises(ValidationError) as info:
        Contact(phone="12").full_clean()
    assert "not a valid phone number" in info.value.message_dict["phone"][0]


def test_the_compiled_validity_check_agrees_with_phonenumbers() -> None:
    """Random numbers around every region's example numbers, and plain noise."""
    import random

    import phonenumbers

    from audiences.phones import _is_valid

    rng = random.Random(20261122)
    kinds = (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE,
    )
    seeds: list[tuple[int, str]] = [
        (int(example.country_code or 0), str(example.national_number))
        for code, regions in phonenumbers.COUNTRY_CODE_TO_REGION_CODE.items()
        for region in regions
        if region != "001"
        for kind in kinds
        if (example := phonenumbers.example_number_for_type(region, kind)) is not None
    ]
    codes = list(phonenumbers.COUNTRY_CODE_TO_REGION_CODE)
    checked = valid = 0
    while checked < 30_000:
        if rng.random() < 0.7:
            code, national = rng.choice(seeds)
            keep = rng.randint(1, len(national))
            extra = len(national) - keep + rng.choice([-1, 0, 0, 1])
            national = national[:keep] + "".join(
                rng.choice("0123456789") for _ in range(extra)
            )
        else:
            code = rng.choice(codes)
            national = "".join(
                rng.choice("0123456789") for _ in range(rng.randint(4, 13))
            )
        if not national or national[0] == "0":
            continue
        mine = _is_valid(code, national)
        if mine is None:
            continue
        number = phonenumbers.PhoneNumber(
            country_code=code, national_number=int(national)
        )
        expected = phonenumbers.is_valid_number(number)
        assert mine == expected, (code, national)
        checked += 1
        valid += expected
    assert valid > 5_000  # the sample holds plenty of valid numbers too


def test_a_number_with_its_country_code_is_not_told_to_add_one() -> None:
    """+1 555 555 0123 has its country code; its digits are what is wrong."""
    with pytest.raises(ValidationError) as info:
        normalize_phone("+15555550123")
    assert "write it with its country code" not in info.value.message
    assert "+1" in info.value.message % info.value.params
    with pytest.raises(ValidationError) as info:
        normalize_phone("12345")
    assert "write it with its country code" in info.value.message
