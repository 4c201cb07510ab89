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
