"""Deleting contacts that campaigns reached: with their messages, journeys and
memberships, in numbers on the confirmation, recorded in the audit trail."""

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from audiences.models import Contact, Membership
from base.models import AuditEntry
from campaigns.runs import campaign_tick
from flows.models import Journey
from messaging.models import InboundMessage, Message
from tests.conftest import PHONES


@pytest.fixture
def reached(make_campaign: Any) -> Contact:
    from campaigns.models import Campaign

    campaign = make_campaign(started=True)
    Campaign.objects.filter(pk=campaign.pk).update(status="in_progress")
    assert campaign_tick(campaign_id=campaign.pk) is not None
    return Contact.objects.get(phone=PHONES[0])


@pytest.mark.django_db
def test_an_operator_deletes_a_contact_a_campaign_reached(
    client: Client, make_user: Any, reached: Contact
) -> None:
    reached.opted_out_at = timezone.now()
    reached.save()
    reply = InboundMessage.objects.create(
        channel=Message.objects.filter(contact=reached).get().channel,
        contact=reached,
        sender=reached.phone,
        body="STOP",
    )
    operator = make_user("Operator")
    client.force_login(operator)
    url = reverse("admin:audiences_contact_delete", args=[reached.pk])

    page = client.get(url)

    assert page.status_code == 200
    text = page.content.decode()
    assert "Messages: 1" in text
    assert "Journeys: 1" in text
    assert "Group memberships: 1" in text
    assert "stay on the suppression list" in text
    response = client.post(url, {"post": "yes"})

    assert response.status_code == 302
    assert not Contact.objects.filter(pk=reached.pk).exists()
    assert not Message.objects.filter(contact_id=reached.pk).exists()
    assert not Journey.objects.filter(contact_id=reached.pk).exists()
    assert not Membership.objects.filter(contact_id=reached.pk).exists()
    reply.refresh_from_db()
    assert reply.contact_id is None  # the reply stays, without the contact
    assert Contact.objects.count() == len(PHONES) - 1
    assert Message.objects.count() == len(PHONES) - 1
    entry = AuditEntry.objects.get(action="delete")
    assert entry.actor == operator
    assert entry.note == "with its 0 events, 1 messages, 1 journeys, 1 memberships"


@pytest.mark.django_db
def test_contacts_are_deleted_in_bulk_from_the_list(
    admin_client: Client, reached: Contact
) -> None:
    chosen = list(Contact.objects.values_list("pk", flat=True)[:2])
    url = reverse("admin:audiences_contact_changelist")
    data = {"action": "delete_selected", "_selected_action": chosen}

    confirm = admin_client.post(url, data)
    assert "Messages: 2" in confirm.content.decode()
    admin_client.post(url, {**data, "post": "yes"})

    assert Contact.objects.count() == len(PHONES) - 2
    assert Message.objects.count() == len(PHONES) - 2
    assert AuditEntry.objects.filter(action="delete").count() == 2


@pytest.mark.django_db
def test_a_viewer_cannot_delete_a_contact(
    client: Client, make_user: Any, reached: Contact
) -> None:
    client.force_login(make_user("Viewer"))
    url = reverse("admin:audiences_contact_delete", args=[reached.pk])

    assert client.post(url, {"post": "yes"}).status_code == 403
    assert Contact.objects.filter(pk=reached.pk).exists()


@pytest.mark.django_db
def test_an_opted_out_contact_erased_and_imported_again_stays_suppressed(
    tmp_path: Any, run_import: Any, make_user: Any
) -> None:
    from audiences.erasure import contacts_delete
    from audiences.suppressing import address_suppressed
    from tests.audiences.files import write_text

    gone = Contact.objects.create(
        phone="+525500998877",
        email="Carlos@example.com",
        opted_out_at=timezone.now(),
        opt_out_source="API",
    )
    kept = Contact.objects.create(phone="+525511223344", email="ana@example.com")
    operator = make_user("Operator")

    contacts_delete(
        contacts=Contact.objects.filter(pk__in=[gone.pk, kept.pk]), actor=operator
    )
    rows = [["CONTACT", "EMAIL"], ["+525500998877", "carlos@example.com"]]
    job = run_import(write_text(tmp_path / "again.tsv", rows))

    assert job.created == 1
    again = Contact.objects.get()
    assert again.opted_out_at is None  # the global opt-out went with the contact
    entry = address_suppressed("phone", again.phone)
    assert entry is not None
    assert (entry.reason, entry.source, entry.created_by) == (
        "operator",
        "opted out (API) before erasure",
        operator,
    )
    assert address_suppressed("email", again.email) is not None
    assert address_suppressed("phone", "+525511223344") is None
