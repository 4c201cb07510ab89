"""The campaign form's count says how many recipients a frequency cap would hold."""

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from audiences.models import Contact
from messaging.models import Channel, FrequencyCap, Message
from messaging.outbox import batch_open
from tests.campaigns.test_admin import form_data
from tests.campaigns.test_bulk import form as bulk_form
from tests.conftest import PHONES


@pytest.mark.django_db
def test_the_campaign_form_counts_the_recipients_a_cap_would_hold(
    admin_client: Client, make_flow: Any, make_group: Any
) -> None:
    flow = make_flow()
    group = make_group(PHONES)
    FrequencyCap.objects.create(messages=1, days=7)
    sent = batch_open(name="Last week's sale", templates={}, tags={"run": 1})
    Message.objects.create(
        batch=sent,
        contact=Contact.objects.get(phone=PHONES[0]),
        step=1,
        channel=Channel.objects.get(),
        status="sent",
        sent_at=timezone.now() - dt.timedelta(days=2),
    )
    start = timezone.localtime() + dt.timedelta(hours=2)
    data = form_data(
        {
            "name": "Buen Fin",
            "flow": flow.pk,
            "group": group.pk,
            "match": "all",
            "start_at": start,
            "end_at": start + dt.timedelta(days=1),
        }
    )

    counted = admin_client.post(
        reverse("admin:campaigns_campaign_add"), {**data, "_count": "1"}
    )

    page = counted.content.decode()
    assert "Goes to 3 contacts. 1 of 3 is at a frequency cap and would wait" in page


@pytest.mark.django_db
def test_the_bulk_preview_counts_only_the_caps_of_its_channel(
    admin_client: Client, make_group: Any, make_channel: Any
) -> None:
    group, sms, mail = make_group(PHONES), make_channel(name="SMS"), make_channel()
    FrequencyCap.objects.create(messages=1, days=7, channel=sms)
    last_week = batch_open(name="Last week's sale", templates={}, tags={"run": 1})
    for phone in PHONES[:2]:
        Message.objects.create(
            batch=last_week,
            contact=Contact.objects.get(phone=phone),
            step=1,
            channel=sms,
            status="sent",
            sent_at=timezone.now() - dt.timedelta(days=1),
        )

    def preview(channel: Channel) -> str:
        return admin_client.post(
            reverse("admin:campaigns_bulk"),
            {**bulk_form(group, channel), "_preview": "1"},
        ).content.decode()

    assert "Goes to 3 contacts. 2 of 3 are at a frequency cap" in preview(sms)
    assert "frequency cap" not in preview(mail)
