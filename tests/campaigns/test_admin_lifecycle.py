"""Campaign rules in the admin: confirmation pages, resume, Finish, monitoring."""

import datetime as dt
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from campaigns.lifecycle import campaign_suspend, campaign_transition
from campaigns.models import Campaign
from campaigns.runs import campaign_tick
from messaging.models import Message
from tests.conftest import PHONES


def texts(response: Any) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def running(make_campaign: Any, **fields: Any) -> Campaign:
    campaign = make_campaign(started=True, **fields)
    campaign_transition(campaign=campaign, to="in_progress")
    return campaign


@pytest.mark.django_db
def test_finish_says_how_many_conversations_it_terminates(
    admin_client: Client, make_campaign: Any
) -> None:
    campaign = running(make_campaign)
    campaign_tick(campaign_id=campaign.pk)
    Message.objects.filter(contact__phone=PHONES[0]).update(status="sent")
    url = reverse("admin:campaigns_end", args=[campaign.pk])

    page = admin_client.get(url).content.decode()

    # The demo flow is send -> end, so journeys have ended; two messages are unsent.
    assert "0 open conversations" in page
    assert "2 queued or deferred messages are cancelled" in page
    assert "This cannot be undone." in page
    assert Campaign.objects.get(pk=campaign.pk).status == "in_progress"
    response = admin_client.post(url, follow=True)
    assert f"Campaign {campaign.name!r} finished." in texts(response)
    assert Message.objects.filter(status="cancelled").count() == 2


@pytest.mark.django_db
def test_resume_asks_for_a_new_start_and_refuses_a_past_one(
    admin_client: Client, make_campaign: Any
) -> None:
    campaign = running(make_campaign)
    change_url = reverse("admin:campaigns_campaign_change", args=[campaign.pk])
    url = reverse("admin:campaigns_resume", args=[campaign.pk])
    assert url not in admin_client.get(change_url).content.decode()
    campaign_suspend(campaign=campaign)
    assert url in admin_client.get(change_url).content.decode()

    form = admin_client.get(url).content.decode()
    assert 'name="start_at_0"' in form

    past = timezone.localtime() - dt.timedelta(hours=1)
    refused = admin_client.post(
        url,
        {"start_at_0": past.strftime("%Y-%m-%d"), "start_at_1": past.strftime("%H:%M")},
    )
    assert "The start must be later than the current time." in refused.content.decode()
    assert Campaign.objects.get(pk=campaign.pk).status == "suspended"

    later = timezone.localtime() + dt.timedelta(hours=2)
    response = admin_client.post(
        url,
        {
            "start_at_0": later.strftime("%Y-%m-%d"),
            "start_at_1": later.strftime("%H:%M"),
        },
        follow=True,
    )
    assert any("resumes at" in m for m in texts(response))
    campaign.refresh_from_db()
    assert campaign.status == "pending"
    assert campaign.start_at == later.replace(second=0, microsecond=0)


@pytest.mark.django_db
def test_the_campaign_page_shows_counts_progress_and_a_chart(
    admin_client: Client, make_campaign: Any
) -> None:
    campaign = running(make_campaign)
    campaign_tick(campaign_id=campaign.pk)
    Message.objects.filter(contact__phone=PHONES[0]).update(status="sent")

    page = admin_client.get(
        reverse("admin:campaigns_campaign_change", args=[campaign.pk])
    ).content.decode()

    assert "Sent: 1" in page
    assert "Queued: 2" in page
    assert "33% sending" in page
    assert 'class="sends-chart"' in page
    assert "Overlap policy" in page


@pytest.mark.django_db
def test_a_sent_bulk_message_can_no_longer_be_cancelled(
    admin_client: Client, make_campaign: Any
) -> None:
    bulk = running(make_campaign, schedule="once")
    campaign_tick(campaign_id=bulk.pk)
    change_url = reverse("admin:campaigns_campaign_change", args=[bulk.pk])
    end_url = reverse("admin:campaigns_end", args=[bulk.pk])

    assert end_url not in admin_client.get(change_url).content.decode()
    response = admin_client.post(end_url, follow=True)
    assert any(
        "has been sent; it can no longer be cancelled" in m for m in texts(response)
    )
    assert Campaign.objects.get(pk=bulk.pk).status == "in_progress"
