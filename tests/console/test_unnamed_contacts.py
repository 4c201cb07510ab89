"""A contact without a name is named by its phone wherever the console shows it."""

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from audiences.models import Contact
from base.audit import audit_record
from campaigns.models import Campaign
from flows.models import Journey
from messaging.models import InboundMessage, Message
from tests.conftest import PHONES


@pytest.mark.django_db
def test_every_screen_names_a_contact_without_a_name_by_its_phone(
    admin_client: Client, make_campaign: Any
) -> None:
    from campaigns.runs import campaign_tick

    campaign = make_campaign(started=True)
    Campaign.objects.filter(pk=campaign.pk).update(status="in_progress")
    Contact.objects.filter(phone=PHONES[0]).update(name="")
    contact = Contact.objects.get(phone=PHONES[0])
    run = campaign_tick(campaign_id=campaign.pk)
    message = Message.objects.get(batch__cohort__run=run, contact=contact)
    journey = Journey.objects.get(cohort__run=run, contact=contact)
    InboundMessage.objects.create(
        channel=message.channel, contact=contact, sender=contact.phone, body="Hola"
    )
    audit_record(action="opt_out", target=contact, note="STOP")
    screens = {
        "messages": reverse("admin:messaging_message_changelist"),
        "message": reverse("admin:messaging_message_change", args=[message.pk]),
        "journeys": reverse("admin:flows_journey_changelist"),
        "journey": reverse("admin:flows_journey_change", args=[journey.pk]),
        "replies": reverse("admin:messaging_inboundmessage_changelist"),
        "audit trail": reverse("admin:console_auditentry_changelist"),
        "contacts": reverse("admin:audiences_contact_changelist"),
        "contact and its timeline": reverse(
            "admin:audiences_contact_change", args=[contact.pk]
        ),
        "group": reverse(
            "admin:audiences_audiencegroup_change", args=[campaign.group_id]
        ),
        "flow preview": reverse("admin:flows_preview", args=[campaign.flow_id])
        + f"?contact={contact.phone}",
    }

    for screen, url in screens.items():
        page = admin_client.get(url).content.decode()
        assert contact.phone in page, screen
        assert not re.search(r">\s*None\s*<", page), screen
        assert f"contact {contact.pk}" not in page, screen

    message_page = admin_client.get(screens["message"]).content.decode()
    assert f"<h2>Message {message.pk} to {contact.phone}, queued</h2>" in message_page
    journey_page = admin_client.get(screens["journey"]).content.decode()
    assert f"<h2>Journey {journey.pk} of {contact.phone}, " in journey_page
