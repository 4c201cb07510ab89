"""The messaging pages of the admin."""

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from flows.models import FlowStep
from messaging.models import Channel, InboundMessage

pytestmark = pytest.mark.django_db


def test_a_channel_no_flow_sends_on_is_deleted_without_reading_its_messages(
    admin_client: Client, make_channel: Any, make_flow: Any
) -> None:
    make_flow()  # on a channel of its own
    unused = make_channel(name="Spare")
    InboundMessage.objects.create(channel=unused, sender="+525500998877", body="Hi")
    url = reverse("admin:messaging_channel_delete", args=[unused.pk])

    with CaptureQueriesContext(connection) as captured:
        page = admin_client.get(url).content.decode()

    assert not any("messaging_message" in q["sql"] for q in captured)
    assert "Replies: 1" in page
    assert "Yes, I’m sure" in page
    assert admin_client.post(url, {"post": "yes"}).status_code == 302
    assert not Channel.objects.filter(pk=unused.pk).exists()
    assert not InboundMessage.objects.exists()


def test_a_channel_a_published_version_sends_on_is_kept_and_the_page_says_which(
    admin_client: Client, make_channel: Any, make_flow: Any
) -> None:
    old = make_channel(name="Old SMS")
    flow = make_flow(name="Cobranza", channel=old)
    # The working copy moved to another channel; version 1 still sends on the old.
    FlowStep.objects.filter(flow=flow, kind="send").update(channel=make_channel())
    url = reverse("admin:messaging_channel_delete", args=[old.pk])

    page = admin_client.get(url).content.decode()

    assert "Flow Cobranza, published version 1" in page
    assert "cannot be deleted: these flows send on it" in page
    assert "Yes, I’m sure" not in page
    admin_client.post(url, {"post": "yes"})
    assert Channel.objects.filter(pk=old.pk).exists()


def test_a_channel_a_flow_step_sends_on_is_kept(
    admin_client: Client, make_channel: Any, make_flow: Any
) -> None:
    channel = make_channel(name="Draft SMS")
    make_flow(name="Encuesta", channel=channel, publish=False)
    url = reverse("admin:messaging_channel_delete", args=[channel.pk])

    page = admin_client.get(url).content.decode()

    assert "Flow Encuesta, step 1 (working copy)" in page
    assert "Yes, I’m sure" not in page


@pytest.mark.django_db
def test_a_messages_page_names_its_step_by_position_in_its_flow_version(
    admin_client: Client, make_campaign: Any
) -> None:
    from campaigns.models import Campaign
    from campaigns.runs import campaign_tick
    from messaging.models import Message

    campaign = make_campaign(started=True)
    Campaign.objects.filter(pk=campaign.pk).update(status="in_progress")
    run = campaign_tick(campaign_id=campaign.pk)
    assert run is not None
    message = Message.objects.filter(batch__cohort__run=run).first()
    assert message is not None

    page = admin_client.get(
        reverse("admin:messaging_message_change", args=[message.pk])
    ).content.decode()

    assert f"step 1 of {run.flow_version}" in page


@pytest.mark.django_db
def test_the_messages_list_says_when_a_held_message_goes_out(
    admin_client: Client, make_campaign: Any
) -> None:
    import datetime as dt

    from django.utils import timezone

    from campaigns.models import Campaign
    from campaigns.runs import campaign_tick
    from messaging.models import Message

    campaign = make_campaign(started=True)
    Campaign.objects.filter(pk=campaign.pk).update(status="in_progress")
    assert campaign_tick(campaign_id=campaign.pk) is not None
    opening = timezone.now().replace(microsecond=0) + dt.timedelta(hours=9)
    held = Message.objects.first()
    assert held is not None
    Message.objects.filter(pk=held.pk).update(status="deferred", not_before=opening)

    page = admin_client.get(reverse("admin:messaging_message_changelist"))

    text = page.content.decode()
    assert "sent, or goes out" in text.lower()
    assert "from " + opening.strftime("%Y-%m-%d %H:%M") in text


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("value", "error"),
    [("40", None), ("0", "from 1 to 1000"), ("many", "from 1 to 1000")],
)
def test_a_channels_max_in_flight_is_a_whole_number_from_1_to_1000(
    value: str, error: str | None
) -> None:
    from django.http import QueryDict

    from messaging.admin import ChannelForm

    data = QueryDict(mutable=True)
    data.update({"name": "Hook", "kind": "webhook", "enabled": "on"})
    data.update({"timezone": "UTC"})
    data.setlist("settings__name", ["url", "max_in_flight"])
    data.setlist("settings__value", ["https://hooks.example/x", value])
    form = ChannelForm(data=data)
    if error is None:
        assert form.is_valid(), form.errors
        assert form.cleaned_data["settings"]["max_in_flight"] == 40
    else:
        assert not form.is_valid()
        assert error in str(form.errors["settings"])
