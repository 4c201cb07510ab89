"""Contacts written from code (audiences.upserts) keep their address keys and take
a time zone."""

import pytest

from audiences.addresses import email_key, phone_key
from audiences.models import Contact
from audiences.upserts import contacts_upsert

pytestmark = pytest.mark.django_db


def test_an_upsert_fills_the_keys_of_new_and_known_contacts() -> None:
    Contact.objects.create(phone="+525500998877")
    Contact.objects.update(phone_key="")

    done = contacts_upsert(
        items=[
            {"phone": "+525500998877", "email": "A@example.com"},
            {"phone": "+525511223344", "email": "b@example.com"},
        ]
    )

    assert done.problems == {}
    for contact in Contact.objects.all():
        assert contact.phone_key == phone_key(contact.phone)
        assert contact.email_key == email_key(contact.email) != ""


def test_an_upsert_stores_a_time_zone_and_refuses_a_bad_one() -> None:
    done = contacts_upsert(
        items=[
            {"phone": "+525500998877", "timezone": "America/Mexico_City"},
            {"phone": "+525511223344", "timezone": "Nowhere/Else"},
        ]
    )

    assert list(done.problems) == [1]
    assert "is not a time zone" in done.problems[1]["timezone"]
    assert Contact.objects.get().timezone == "America/Mexico_City"

    contacts_upsert(items=[{"phone": "+525500998877", "name": "Ana"}])
    assert Contact.objects.get().timezone == "America/Mexico_City"


def test_contacts_generated_in_sql_for_the_admin_bench_get_their_keys() -> None:
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("the admin bench generates its contacts in PostgreSQL")
    from bench.admin.data.contacts import build_contacts

    build_contacts(30)

    contacts = list(Contact.objects.all())
    assert len(contacts) == 30
    assert any(contact.email for contact in contacts)
    for contact in contacts:
        assert contact.phone_key == phone_key(contact.phone)
        assert contact.email_key == email_key(contact.email)
