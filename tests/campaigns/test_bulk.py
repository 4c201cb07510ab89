"""Bulk messages: composed in one form, previewed, sent once."""

import datetime as dt
import logging
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from campaigns.bulk import bulk_send_time
from campaigns.models import Campaign
from campaigns.runs import campaign_tick
from messaging.models import Message
from messaging.sending import messages_send_range
from tests.conftest import PHONES, batch_of


def form(group: Any, channel: Any, **extra: Any) -> dict[str, Any]:
    return {
        "name": "Black Friday",
        "group": group.pk,
        "channel": channel.pk,
        "body": "Hola {{NOMBRE}} 🎉 -30% hoy",
        "media_url": "https://example.com/bf.png",
        "sender_name": "Tienda Sol",
        "reply_to": "ventas@example.com",
        "send_at_0": "",
        "send_at_1": "",
        "match": "all",
        "conditions-TOTAL_FORMS": "0",
        "conditions-INITIAL_FORMS": "0",
        **extra,
    }


@pytest.mark.django_db
def test_the_preview_shows_the_message_as_the_first_recipient_sees_it(
    admin_client: Client, make_group: Any, make_channel: Any
) -> None:
    group, channel = make_group(PHONES), make_channel(name="WhatsApp MX")
    page = admin_client.post(
        reverse("admin:campaigns_bulk"), {**form(group, channel), "_preview": "1"}
    ).content.decode()

    assert "Hola N0 🎉 -30% hoy" in page
    assert f"Goes to {len(PHONES):,} contacts." in page
    assert f"To {group.name}." in page
    assert "Tienda Sol" in page
    from audiences.models import Contact

    Contact.objects.filter(phone=PHONES[1]).update(opted_out_at=timezone.now())
    again = admin_client.post(
        reverse("admin:campaigns_bulk"), {**form(group, channel), "_preview": "1"}
    ).content.decode()
    assert f"Goes to {len(PHONES) - 1:,} contacts; 1 opted out is skipped." in again
    assert "https://example.com/bf.png" in page
    assert "replies to ventas@example.com" in page
    assert not Campaign.objects.exists()


@pytest.mark.django_db
def test_the_preview_says_when_the_first_recipient_has_no_name_for_the_text(
    admin_client: Client, make_group: Any, make_channel: Any
) -> None:
    from audiences.models import Contact

    group, channel = make_group(PHONES), make_channel()
    Contact.objects.filter(phone=PHONES[0]).update(name="")
    page = admin_client.post(
        reverse("admin:campaigns_bulk"),
        {**form(group, channel, body="Hola {{NAME}}"), "_preview": "1"},
    ).content.decode()

    assert f"For {PHONES[0]}" in page
    assert f"{PHONES[0]} has no value for NAME: sent empty." in page


@pytest.mark.django_db
def test_a_bulk_message_is_scheduled_once_sent_once_and_then_final(
    admin_client: Client,
    make_group: Any,
    make_channel: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    group, channel = make_group(PHONES), make_channel()
    response = admin_client.post(
        reverse("admin:campaigns_bulk"), {**form(group, channel), "_send": "1"}
    )
    assert response.status_code == 302, response.content.decode()[-2000:]
    campaign = Campaign.objects.get()
    assert campaign.schedule == "once"
    assert campaign.periodic_task is not None
    assert campaign.periodic_task.clocked is not None
    assert campaign.start_at - timezone.now() <= dt.timedelta(seconds=65)

    # The clocked task fires at the start: one run, one message per contact.
    at = campaign.start_at + dt.timedelta(seconds=1)
    assert campaign_tick(campaign_id=campaign.pk, now=at) is not None
    assert (
        campaign_tick(campaign_id=campaign.pk, now=at + dt.timedelta(minutes=5)) is None
    )
    caplog.set_level(logging.INFO, logger="messaging.console")
    run = campaign.runs.get()
    messages_send_range(batch_id=batch_of(run), first_id=0, last_id=10**9)
    assert Message.objects.filter(status="sent").count() == len(PHONES)
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert "[from Tienda Sol] [reply-to ventas@example.com]" in logged
    assert "[media https://example.com/bf.png]" in logged

    change = admin_client.get(
        reverse("admin:campaigns_campaign_change", args=[campaign.pk])
    ).content.decode()
    assert reverse("admin:campaigns_end", args=[campaign.pk]) not in change
    assert 'name="_save"' not in change

    # Once its run is over, the bulk message ends: no longer listed as running.
    from campaigns.tasks import advance_lifecycles

    Campaign.objects.filter(pk=campaign.pk).update(status="in_progress")
    advance_lifecycles()
    campaign.refresh_from_db()
    assert campaign.status == "ended"
    assert campaign.events.first().note == (  # type: ignore[union-attr]
        "the bulk message went out: nothing left to send"
    )
    assert Message.objects.filter(status="sent").count() == len(PHONES)


@pytest.mark.django_db
def test_a_send_time_in_the_past_is_refused(
    admin_client: Client, make_group: Any, make_channel: Any
) -> None:
    past = timezone.localtime() - dt.timedelta(hours=1)
    page = admin_client.post(
        reverse("admin:campaigns_bulk"),
        {
            **form(make_group(PHONES), make_channel()),
            "send_at_0": past.strftime("%Y-%m-%d"),
            "send_at_1": past.strftime("%H:%M"),
            "_send": "1",
        },
    ).content.decode()
    assert "The send time must be later than now." in page
    assert not Campaign.objects.exists()


def test_as_soon_as_possible_is_the_next_whole_minute_at_least_5_seconds_away() -> None:
    now = timezone.now().replace(second=58, microsecond=0)
    assert bulk_send_time(None, now) == now.replace(second=0) + dt.timedelta(minutes=2)
    now = now.replace(second=10)
    assert bulk_send_time(None, now) == now.replace(second=0) + dt.timedelta(minutes=1)


@pytest.mark.django_db
def test_a_bulk_message_is_in_the_audit_trail_as_one(
    admin_client: Client, make_group: Any, make_channel: Any
) -> None:
    """The trail's "Bulk message" filter finds it: it was recorded only as a created
    campaign and a published flow, and the filter found nothing."""
    from base.models import AuditEntry

    group, channel = make_group(PHONES, name="Buyers"), make_channel(name="SMS MX")
    admin_client.post(
        reverse("admin:campaigns_bulk"), {**form(group, channel), "_send": "1"}
    )
    campaign = Campaign.objects.get()
    entry = AuditEntry.objects.get(action=AuditEntry.Action.SEND)
    assert entry.target_id == str(campaign.pk)
    assert entry.actor_label == "admin"
    assert entry.note.startswith("to Buyers on SMS MX at ")
    assert entry.note.endswith("Hola {{NOMBRE}} 🎉 -30% hoy")
    page = admin_client.get(
        reverse("admin:console_auditentry_changelist"), {"action__exact": "send"}
    ).content.decode()
    assert "Black Friday" in page
