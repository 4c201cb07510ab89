import pytest

from audiences.models import AudienceGroup, Contact, Membership

pytestmark = pytest.mark.django_db


def test_memberships_go_with_their_contact_or_group() -> None:
    group = AudienceGroup.objects.create(name="g")
    other = AudienceGroup.objects.create(name="h")
    carlos = Contact.objects.create(phone="+525500998877")
    ana = Contact.objects.create(phone="+525511223344")
    for contact in (carlos, ana):
        Membership.objects.create(group=group, contact=contact)
        Membership.objects.create(group=other, contact=contact)

    carlos.delete()
    assert set(Membership.objects.values_list("contact_id", flat=True)) == {ana.pk}

    other.delete()
    assert list(Membership.objects.values_list("group_id", "contact_id")) == [
        (group.pk, ana.pk)
    ]


def test_a_contact_without_a_name_is_shown_by_its_phone_else_its_email() -> None:
    named = Contact.objects.create(phone="+525500998877", name="Carlos")
    unnamed = Contact.objects.create(phone="+525511223344", email="ana@example.com")
    # A row written outside the forms (the shell, a migration) may lack a phone.
    emailed = Contact.objects.create(phone="", email="luz@example.com")

    assert str(named) == "Carlos (+525500998877)"
    assert str(unnamed) == "+525511223344"
    assert str(emailed) == "luz@example.com"
    assert str(Contact(name="Luz", email="luz@example.com")) == "Luz (luz@example.com)"
    assert str(Contact(pk=7)) == "contact 7"
