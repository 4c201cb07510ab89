"""The messages list's filters and a message's page, as an operator reads them."""

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from campaigns.models import Campaign, CampaignRun
from messaging.models import Channel, Message

LIST = "admin:messaging_message_changelist"


def _run(make_campaign: Any, name: str) -> CampaignRun:
    from campaigns.runs import campaign_tick

    campaign = make_campaign(started=True, name=name)
    Campaign.objects.filter(pk=campaign.pk).update(status="in_progress")
    run = campaign_tick(campaign_id=campaign.pk)
    assert run is not None
    return run


def _shown(client: Client, query: str) -> set[int]:
    response = client.get(reverse(LIST) + query)
    assert response.status_code == 200
    return {message.pk for message in response.context["cl"].result_list}


@pytest.mark.django_db
def test_the_messages_list_filters_by_campaign_run_channel_and_date(
    admin_client: Client, make_campaign: Any, make_channel: Any
) -> None:
    spring = _run(make_campaign, "Spring sale")
    autumn = _run(make_campaign, "Autumn sale")
    of_spring = set(
        Message.objects.filter(batch__cohort__run=spring).values_list("pk", flat=True)
    )
    of_autumn = set(
        Message.objects.filter(batch__cohort__run=autumn).values_list("pk", flat=True)
    )
    assert of_spring
    assert of_autumn
    whatsapp = make_channel(name="WhatsApp line")
    moved = min(of_autumn)
    Message.objects.filter(pk=moved).update(channel=whatsapp)
    # Written a week ago: the oldest ids, as messages written then have.
    old = min(of_spring)
    week_ago = timezone.now() - dt.timedelta(days=7)
    Message.objects.filter(pk=old).update(created_at=week_ago)

    page = admin_client.get(reverse(LIST)).content.decode()
    for title in ("By campaign", "By run", "By channel", "By date"):
        assert title in page

    assert _shown(admin_client, f"?campaign={spring.campaign_id}") == of_spring
    assert _shown(admin_client, f"?run={autumn.pk}") == of_autumn
    assert _shown(admin_client, f"?channel={whatsapp.pk}") == {moved}
    today = timezone.localdate().isoformat()
    assert _shown(admin_client, f"?date_from={today}") == (of_spring | of_autumn) - {
        old
    }
    day = timezone.localtime(week_ago).date().isoformat()
    assert _shown(admin_client, f"?date_from={day}&date_until={day}") == {old}
    # Together: one campaign's messages on one channel.
    sms = Message.objects.get(pk=max(of_autumn)).channel_id
    both = f"?campaign={autumn.campaign_id}&channel={sms}"
    assert _shown(admin_client, both) == of_autumn - {moved}
    # A channel the run's flow does not send on has none of its messages: said
    # without reading them (the moved one stands for a message that cannot be).
    with CaptureQueriesContext(connection) as queries:
        assert _shown(admin_client, f"?run={autumn.pk}&channel={whatsapp.pk}") == set()
    assert not [
        q["sql"]
        for q in queries.captured_queries
        if 'FROM "messaging_message"' in q["sql"] and "channel_id" in q["sql"]
    ]
    assert _shown(admin_client, f"?campaign={spring.campaign_id}&channel=x") == set()
    refused = admin_client.get(reverse(LIST) + "?date_from=2026-13-45")
    assert "is not a day written YYYY-MM-DD" in refused.content.decode()


@pytest.mark.django_db
def test_the_run_filter_offers_the_runs_of_the_chosen_campaign(
    admin_client: Client, make_campaign: Any
) -> None:
    spring = _run(make_campaign, "Spring sale")
    autumn = _run(make_campaign, "Autumn sale")

    page = admin_client.get(
        reverse(LIST) + f"?campaign={spring.campaign_id}"
    ).content.decode()

    assert f"?campaign={spring.campaign_id}&amp;run={spring.pk}" in page
    assert f"run={autumn.pk}" not in page


@pytest.mark.django_db
def test_a_messages_page_shows_what_it_sent_and_why_and_folds_the_machinery(
    admin_client: Client, client: Client, make_campaign: Any, make_user: Any
) -> None:
    run = _run(make_campaign, "Spring sale")
    message = Message.objects.filter(batch__cohort__run=run).first()
    assert message is not None
    Message.objects.filter(pk=message.pk).update(
        status="failed",
        attempts=3,
        error="21211: invalid 'To' number",
        body="Hola Carlos",
        sent_at=timezone.now(),
        provider_id="SM123",
    )
    url = reverse("admin:messaging_message_change", args=[message.pk])

    page = admin_client.get(url).content.decode()

    assert "Failed: 21211: invalid &#x27;To&#x27; number after 3 attempts" in page
    assert "Not delivered, as the provider reported" in page
    assert "SM123" in page
    assert "Hola Carlos" in page
    assert reverse("admin:audiences_contact_change", args=[message.contact_id]) in page
    assert Channel.objects.get(pk=message.channel_id).name in page
    assert "Technical" in page
    assert "collapse" in page
    operator_part, _, technical = page.partition("Technical")
    assert "Lease until" in technical
    assert "Lease until" not in operator_part
    assert "Attempts" not in operator_part

    client.force_login(make_user("Viewer", username="victor"))
    seen = client.get(url).content.decode()
    assert "Hola Carlos" in seen
    assert "Lease until" not in seen
    assert "Claim token" not in seen


@pytest.mark.django_db
def test_a_channel_alone_is_looked_for_among_the_newest_messages_and_says_so(
    admin_client: Client,
    make_campaign: Any,
    make_channel: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from messaging import message_filters

    run = _run(make_campaign, "Spring sale")
    ids = sorted(
        Message.objects.filter(batch__cohort__run=run).values_list("pk", flat=True)
    )
    sms = Message.objects.get(pk=ids[0]).channel_id
    monkeypatch.setattr(message_filters, "CHANNEL_WINDOW", 2)

    alone = admin_client.get(reverse(LIST) + f"?channel={sms}")
    with_run = f"?channel={sms}&run={run.pk}"

    assert {m.pk for m in alone.context["cl"].result_list} == set(ids[-2:])
    assert "Among the newest 2 messages" in alone.content.decode()
    assert _shown(admin_client, with_run) == set(ids)
    assert (
        "Among the newest"
        not in admin_client.get(reverse(LIST) + with_run).content.decode()
    )
