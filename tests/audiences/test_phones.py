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


# Since August 2019 a Mexican number is dialled as its ten digits everywhere; the 1
# after +52 (mobiles from abroad), 044 / 045 (mobiles from a fixed line) and 01 (long
# distance) are gone, and the E.164 form has none of them (phonenumbers agrees:
# +52 55 1234 5678). Operators' lists, and WhatsApp, still show them.
@pytest.mark.parametrize(
    "raw",
    [
        "+52 1 55 1234 5678",
        "+5215512345678",
        "+52 1 (55) 1234-5678",
        "044 55 1234 5678",
        "045 55 1234 5678",
        "01 55 1234 5678",
        "55 1234 5678",
    ],
)
def test_mexican_numbers_in_their_old_dialling_forms_become_e164(raw: str) -> None:
    assert normalize_phone(raw) == "+525512345678"


def test_the_e164_of_a_mexican_mobile_has_no_1_after_52() -> None:
    import phonenumbers

    number = phonenumbers.parse("+52 55 1234 5678")
    assert phonenumbers.is_valid_number(number)
    assert phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164) == (
        "+525512345678"
    )
    assert not phonenumbers.is_valid_number(phonenumbers.parse("+5215512345678"))


@pytest.mark.parametrize(
    "space",
    ["\u202f", "\u00a0", "\u2009", "\u2007", "\u3000", "\t", " \u200a "],
    ids=["narrow no-break", "no-break", "thin", "figure", "ideographic", "tab", "hair"],
)
def test_any_space_between_the_digits_is_ignored(space: str) -> None:
    assert normalize_phone(f"+52{space}55{space}1234{space}5678") == "+525512345678"
    assert normalize_phone(f"55{space}1234{space}5678") == "+525512345678"
    assert normalize_phone(f"044{space}55{space}1234{space}5678") == "+525512345678"


@pytest.mark.parametrize(
    "raw",
    [
        "+52 1 55 1234 567",  # a digit short, old prefix or not
        "044 55 1234 567",
        "+52 9 55 1234 5678",  # 9 was never a prefix
        "+52 1 1 55 1234 5678",  # the prefix once, not twice
    ],
)
def test_an_old_prefix_does_not_make_wrong_digits_right(raw: str) -> None:
    with pytest.raises(ValidationError) as info:
        normalize_phone(raw)
    message = info.value.message % info.value.params
    assert "not a valid phone number" in message
    if raw.startswith("+"):
        assert "no number of country code +52 has these digits" in message


def test_invisible_marks_copied_with_a_number_are_dropped() -> None:
    left_to_right, zero_width = "\u200e", "\u200b"
    assert normalize_phone(f"{left_to_right}+52 55 1234{zero_width}5678") == (
        "+525512345678"
    )
    with pytest.raises(ValidationError) as info:
        normalize_phone(f" {left_to_right} ")
    assert info.value.code == "required"


def test_a_bad_number_written_with_odd_spaces_is_named_as_written() -> None:
    with pytest.raises(ValidationError) as info:
        normalize_phone("+52\u202f55\u202f1234\u202f567")
    message = info.value.message % info.value.params
    assert "not a phone number" not in message
    assert message.startswith("+52 55 1234 567 is not a valid phone number")
