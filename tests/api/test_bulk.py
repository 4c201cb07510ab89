"""/api/v1/bulk-messages: a bulk message checked as the console's form checks it,
published, scheduled once and sent once."""

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from audiences.models import Contact, Variable
from campaigns.models import Campaign
from campaigns.runs import campaign_tick
from messaging.models import Message
from messaging.sending import messages_send_range
from tests.conftest import PHONES, batch_of

from .conftest import KeyClient

pytestmark = pytest.mark.django_db


def test_a_bulk_message_is_created_scheduled_and_sent_once(
    operator: KeyClient, make_group: Any, make_channel: Any, provider: Any
) -> None:
    Variable.objects.create(name="NOMBRE", kind="text")
    group, others, channel = make_group(PHONES), make_group(), make_channel()
    Contact.objects.filter(phone=PHONES[2]).update(opted_out_at=timezone.now())

    response = operator.send(
        "post",
        "/api/v1/bulk-messages",
        {
            "name": "Black Friday",
            "description": "-30% today",
            "group": group.pk,
            "excluded_groups": [others.pk],
            "channel": channel.pk,
            "body": "Hola {{NOMBRE}} -30% hoy",
            "media_url": "https://example.com/bf.png",
            "sender_name": "Tienda Sol",
            "conditions": [{"field": "NOMBRE", "op": "is_set"}],
        },
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    campaign = Campaign.objects.get()
    assert body["recipients"] == {"total": 3, "opted_out": 1, "reachable": 2}
    assert body["campaign"]["id"] == campaign.pk
    assert body["campaign"]["schedule"] == "once"
    assert body["campaign"]["description"] == "-30% today"
    assert body["campaign"]["excluded_groups"] == [
        {"id": others.pk, "name": others.name}
    ]
    assert campaign.periodic_task is not None
    assert campaign.periodic_task.clocked is not None
    assert campaign.start_at - timezone.now() <= dt.timedelta(seconds=65)

    run = campaign_tick(
        campaign_id=campaign.pk, now=campaign.start_at + dt.timedelta(seconds=1)
    )
    assert run is not None
    messages_send_range(batch_id=batch_of(run), first_id=0, last_id=10**9)
    assert sorted(phone for _, phone, _ in provider.sent) == sorted(PHONES[:2])
    assert {text for _, _, text in provider.sent} == {
        "Hola N0 -30% hoy",
        "Hola N1 -30% hoy",
    }
    assert Message.objects.filter(status="skipped").count() == 1


def test_a_bulk_message_the_console_would_refuse_is_a_400_naming_each_field(
    operator: KeyClient, make_group: Any, make_channel: Any
) -> None:
    group = make_group(PHONES)
    disabled = make_channel(enabled=False)
    past = timezone.now() - dt.timedelta(hours=1)

    response = operator.send(
        "post",
        "/api/v1/bulk-messages",
        {
            "name": "Black Friday",
            "group": group.pk,
            "also_groups": [group.pk],
            "excluded_groups": [group.pk],
            "channel": disabled.pk,
            "body": "Hola",
            "media_url": "ftp://example.com/bf.png",
            "send_at": past.isoformat(),
            "reply_to": "not an address",
        },
    )

    assert response.status_code == 400
    fields = response.json()["fields"]
    assert set(fields) == {
        "channel",
        "media_url",
        "send_at",
        "reply_to",
        "excluded_groups",
    }
    assert fields["send_at"] == "The send time must be later than now."
    assert "is not an http or https address" in fields["media_url"]
    assert "Select a valid choice" in fields["channel"]
    assert not Campaign.objects.exists()


def test_a_viewer_may_not_send_a_bulk_message(
    viewer: KeyClient, make_group: Any, make_channel: Any
) -> None:
    response = viewer.send(
        "post",
        "/api/v1/bulk-messages",
        {
            "name": "Black Friday",
            "group": make_group(PHONES).pk,
            "channel": make_channel().pk,
            "body": "Hola",
        },
    )
    assert response.status_code == 403
    assert not Campaign.objects.exists()
