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
