"""A campaign's language (of its emails' unsubscribe line and page): chosen in the
campaign form, the bulk message form and the API, and carried to its runs'
batches."""

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from campaigns.lifecycle import campaign_suspend, campaign_update
from campaigns.models import Campaign
from campaigns.runs import campaign_tick
from messaging.models import Batch
from tests.campaigns.test_admin import form_data
from tests.campaigns.test_bulk import form
from tests.conftest import PHONES, batch_of


@pytest.mark.django_db
def test_the_campaign_form_takes_a_language_and_its_runs_batch_carries_it(
    admin_client: Client, make_flow: Any, make_group: Any
) -> None:
    start = timezone.localtime() + dt.timedelta(hours=2)
    fields = {
        "flow": make_flow().pk,
        "group": make_group(PHONES).pk,
        "start_at": start,
        "end_at": start + dt.timedelta(days=1),
    }
    page = admin_client.get(reverse("admin:campaigns_campaign_add")).content.decode()
    assert "The language of the unsubscribe page" in page

    for name, language in (("Spanish", "es"), ("Unsaid", None)):
        data = form_data({**fields, "name": name})
        if language:
            data["language"] = language
        response = admin_client.post(reverse("admin:campaigns_campaign_add"), data)
        assert response.status_code == 302, response.content.decode()[:2000]

    spanish = Campaign.objects.get(name="Spanish")
    assert spanish.language == "es"
    assert Campaign.objects.get(name="Unsaid").language == "en"
    Campaign.objects.filter(pk=spanish.pk).update(
        start_at=timezone.now() - dt.timedelta(minutes=5)
    )
    run = campaign_tick(campaign_id=spanish.pk)
    assert run is not None
    assert Batch.objects.get(pk=batch_of(run)).tags == {
        "run": run.pk,
        "language": "es",
    }


@pytest.mark.django_db
def test_a_bulk_message_takes_a_language(
    admin_client: Client, make_group: Any, make_channel: Any
) -> None:
    group, channel = make_group(PHONES), make_channel()

    response = admin_client.post(
        reverse("admin:campaigns_bulk"),
        {**form(group, channel), "language": "pt", "_send": "1"},
    )

    assert response.status_code == 302, response.content.decode()[-2000:]
    assert Campaign.objects.get().language == "pt"


@pytest.mark.django_db
def test_the_messages_of_a_suspended_campaign_follow_a_change_of_language(
    make_campaign: Any,
) -> None:
    campaign = make_campaign(started=True, language="es")
    run = campaign_tick(campaign_id=campaign.pk)
    assert run is not None
    campaign_suspend(campaign=campaign)

    later = timezone.now() + dt.timedelta(hours=1)
    campaign_update(campaign=campaign, language="pt", start_at=later)

    assert Batch.objects.get(pk=batch_of(run)).tags == {
        "run": run.pk,
        "language": "pt",
    }
