"""Bulk messages as their own thing: their list and editor, locked once sent, and
kept out of the campaigns' list, plans and flow picker, and out of the Flows list."""

import datetime as dt
import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from campaigns.bulk import BulkMessage, bulk_message_create
from campaigns.lifecycle import CampaignRefused
from campaigns.models import Campaign
from campaigns.runs import campaign_tick
from flows.models import Flow
from messaging.sending import messages_send_range
from tests.campaigns.test_bulk import form
from tests.conftest import PHONES, batch_of


def later(hours: int = 2) -> dt.datetime:
    return (timezone.localtime() + dt.timedelta(hours=hours)).replace(
        second=0, microsecond=0
    )


def scheduled(group: Any, channel: Any, **extra: Any) -> dict[str, Any]:
    at = later()
    return {
        **form(group, channel),
        "send_at_0": at.strftime("%Y-%m-%d"),
        "send_at_1": at.strftime("%H:%M"),
        **extra,
    }


@pytest.mark.django_db
def test_saving_a_bulk_message_leads_to_its_own_page_with_its_text(
    admin_client: Client, make_group: Any, make_channel: Any
) -> None:
    group, channel = make_group(PHONES), make_channel(name="SMS MX")
    response = admin_client.post(
        reverse("admin:campaigns_bulkmessage_add"),
        {**scheduled(group, channel), "_send": "1"},
    )
    campaign = Campaign.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "admin:campaigns_bulkmessage_change", args=[campaign.pk]
    )
    page = admin_client.get(response["Location"]).content.decode()
    assert "Hola {{NOMBRE}} 🎉 -30% hoy" in page  # the text, as composed
    assert "Hola N0 🎉 -30% hoy" in page  # and as its first recipient sees it
    assert "Save the changes" in page
    assert "Scheduled" in page
    # The campaign's own page leads there too.
    again = admin_client.get(
        reverse("admin:campaigns_campaign_change", args=[campaign.pk])
    )
    assert again["Location"] == response["Location"]


@pytest.mark.django_db
def test_the_bulk_list_shows_channel_audience_time_status_and_counts(
    admin_client: Client, make_group: Any, make_channel: Any
) -> None:
    group, channel = make_group(PHONES, name="Buyers"), make_channel(name="SMS MX")
    admin_client.post(
        reverse("admin:campaigns_bulkmessage_add"),
        {**form(group, channel), "_send": "1"},
    )
    campaign = Campaign.objects.get()
    page = admin_client.get(
        reverse("admin:campaigns_bulkmessage_changelist")
    ).content.decode()
    assert "Black Friday" in page
    assert "SMS MX" in page
    assert "Buyers" in page
    assert "as soon as possible" in page
    assert 'white-space:nowrap">Scheduled</span>' in page
    # Its editor leaves the time empty, as composed: a time already past would be
    # refused on saving.
    editor = admin_client.get(
        reverse("admin:campaigns_bulkmessage_change", args=[campaign.pk])
    ).content.decode()
    assert "Sends as soon as possible (within a minute)." in editor
    date_input = re.search(r'<input type="text" name="send_at_0"[^>]*>', editor)
    assert date_input is not None
    assert "value=" not in date_input.group(0)

    run = campaign_tick(
        campaign_id=campaign.pk, now=campaign.start_at + dt.timedelta(seconds=1)
    )
    assert run is not None
    messages_send_range(batch_id=batch_of(run), first_id=0, last_id=10**9)
    page = admin_client.get(
        reverse("admin:campaigns_bulkmessage_changelist")
    ).content.decode()
    assert 'white-space:nowrap">Sent</span>' in page
    assert f'<td class="field-recipients">{len(PHONES)}</td>' in page
    assert f'<td class="field-sent">{len(PHONES)}</td>' in page
    assert '<td class="field-failed">0</td>' in page


@pytest.mark.django_db
def test_a_scheduled_bulk_message_is_changed_in_its_editor(
    admin_client: Client, make_group: Any, make_channel: Any
) -> None:
    group, channel = make_group(PHONES), make_channel()
    campaign = bulk_message_create(
        message=BulkMessage(
            name="Promo", group=group, channel=channel, body="Old", send_at=later()
        )
    )
    old_flow = campaign.flow_id
    url = reverse("admin:campaigns_bulkmessage_change", args=[campaign.pk])
    response = admin_client.post(
        url, {**scheduled(group, channel, name="Promo 2", body="New"), "_send": "1"}
    )
    assert response.status_code == 302, response.content.decode()[-3000:]
    campaign.refresh_from_db()
    assert campaign.name == "Promo 2"
    assert campaign.flow_id != old_flow
    assert campaign.flow_version.steps[0]["body"] == "New"
    assert campaign.flow.for_bulk
    assert Campaign.objects.count() == 1


@pytest.mark.django_db
def test_a_sent_bulk_message_is_locked_even_to_a_post_from_an_old_page(
    admin_client: Client, make_group: Any, make_channel: Any
) -> None:
    group, channel = make_group(PHONES), make_channel()
    campaign = bulk_message_create(
        message=BulkMessage(name="Promo", group=group, channel=channel, body="Old")
    )
    url = reverse("admin:campaigns_bulkmessage_change", args=[campaign.pk])
    assert campaign_tick(
        campaign_id=campaign.pk, now=campaign.start_at + dt.timedelta(seconds=1)
    )
    page = admin_client.get(url).content.decode()
    assert "has been sent; a sent message is locked" in page
    assert 'name="_send"' not in page
    assert "Its messages" in page

    response = admin_client.post(
        url, {**form(group, channel, body="Changed"), "_send": "1"}, follow=True
    )
    assert "Not saved: Bulk message &#x27;Promo&#x27; has been sent" in (
        response.content.decode()
    )
    campaign.refresh_from_db()
    assert campaign.flow_version.steps[0]["body"] == "Old"
    from campaigns.bulk import bulk_message_update

    changed = BulkMessage(name="X", group=group, channel=channel, body="X")
    with pytest.raises(CampaignRefused, match="has been sent"):
        bulk_message_update(campaign=campaign, message=changed)


@pytest.mark.django_db
def test_bulk_messages_stay_out_of_the_campaigns_their_plans_and_flow_pickers(
    admin_client: Client, make_group: Any, make_channel: Any
) -> None:
    group, channel = make_group(PHONES), make_channel()
    bulk_message_create(
        message=BulkMessage(name="Promo", group=group, channel=channel, body="Hi")
    )
    bulk_flow = Flow.objects.get(for_bulk=True)
    assert bulk_flow.name == "Bulk: Promo"

    campaigns = admin_client.get(
        reverse("admin:campaigns_campaign_changelist")
    ).content.decode()
    assert "Promo" not in campaigns
    assert "Once (bulk message)" not in campaigns  # no such plan to filter by
    assert "Daily" in campaigns
    add = admin_client.get(reverse("admin:campaigns_campaign_add")).content.decode()
    assert 'value="once"' not in add
    assert "Once (bulk message)" not in add
    flows = admin_client.get(reverse("admin:flows_flow_changelist")).content.decode()
    assert "Bulk: Promo" not in flows
    picker = admin_client.get(
        reverse("admin:autocomplete"),
        {
            "app_label": "campaigns",
            "model_name": "campaign",
            "field_name": "flow",
            "term": "Bulk",
        },
    ).json()
    assert picker["results"] == []
    # And a hand-made post cannot pick them either.
    start = later()
    refused = admin_client.post(
        reverse("admin:campaigns_campaign_add"),
        {
            "name": "Sneaky",
            "flow": bulk_flow.pk,
            "group": group.pk,
            "schedule": "once",
            "start_at_0": start.strftime("%Y-%m-%d"),
            "start_at_1": start.strftime("%H:%M"),
            "end_at_0": (start + dt.timedelta(days=1)).strftime("%Y-%m-%d"),
            "end_at_1": start.strftime("%H:%M"),
            "match": "all",
            "language": "en",
            "rules-TOTAL_FORMS": "0",
            "rules-INITIAL_FORMS": "0",
        },
    ).content.decode()
    assert "Select a valid choice" in refused
    assert Campaign.objects.count() == 1


@pytest.mark.django_db
def test_a_scheduled_bulk_message_is_cancelled_or_deleted_from_its_page(
    admin_client: Client, make_group: Any, make_channel: Any
) -> None:
    group, channel = make_group(PHONES), make_channel()
    campaign = bulk_message_create(
        message=BulkMessage(name="Promo", group=group, channel=channel, body="Hi")
    )
    url = reverse("admin:campaigns_bulkmessage_change", args=[campaign.pk])
    page = admin_client.get(url).content.decode()
    end = reverse("admin:campaigns_end", args=[campaign.pk])
    delete = reverse("admin:campaigns_bulkmessage_delete", args=[campaign.pk])
    assert f'href="{end}">Cancel the send' in page
    assert f'href="{delete}"' in page

    asked = admin_client.get(end).content.decode()
    assert "Cancel the send of Promo?" in asked  # a bulk message's words ...
    assert "Finish" not in asked  # ... not a campaign's
    assert f'href="{url}"' in asked  # back to its own page
    cancelled = admin_client.post(end, follow=True)
    assert cancelled.redirect_chain == [(url, 302)]
    page = cancelled.content.decode()
    assert "Bulk message &#x27;Promo&#x27; cancelled." in page
    assert "Status: <strong>Cancelled</strong>" in page
    assert "was cancelled; compose a new one" in page

    assert admin_client.post(delete, {"post": "yes"}).status_code == 302
    assert not Campaign.objects.exists()


@pytest.mark.django_db
def test_a_bulk_message_on_its_way_cannot_be_deleted(
    admin_client: Client, make_group: Any, make_channel: Any
) -> None:
    group, channel = make_group(PHONES), make_channel()
    campaign = bulk_message_create(
        message=BulkMessage(name="Promo", group=group, channel=channel, body="Hi")
    )
    assert campaign_tick(
        campaign_id=campaign.pk, now=campaign.start_at + dt.timedelta(seconds=1)
    )
    delete = reverse("admin:campaigns_bulkmessage_delete", args=[campaign.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    assert Campaign.objects.filter(pk=campaign.pk).exists()


@pytest.mark.django_db
def test_a_viewer_sees_a_bulk_message_but_cannot_change_it(
    client: Client, make_user: Any, make_group: Any, make_channel: Any
) -> None:
    group, channel = make_group(PHONES), make_channel()
    campaign = bulk_message_create(
        message=BulkMessage(
            name="Promo", group=group, channel=channel, body="Hi", send_at=later()
        )
    )
    client.force_login(make_user("Viewer"))
    url = reverse("admin:campaigns_bulkmessage_change", args=[campaign.pk])
    listed = client.get(reverse("admin:campaigns_bulkmessage_changelist"))
    assert "Promo" in listed.content.decode()
    page = client.get(url).content.decode()
    assert "Promo" in page
    assert 'name="_send"' not in page
    assert "Cancel the send" not in page
    posted = client.post(url, {**scheduled(group, channel, body="X"), "_send": "1"})
    assert posted.status_code == 403
    assert client.get(reverse("admin:campaigns_bulkmessage_add")).status_code == 403


@pytest.mark.django_db
def test_the_migration_marks_the_flows_bulk_messages_made_before_the_flag() -> None:
    import importlib

    from django.apps import apps

    migration = importlib.import_module("flows.migrations.0014_flow_for_bulk")
    made = Flow.objects.create(
        name="Bulk: Old promo", description="The message of a bulk send."
    )
    own = Flow.objects.create(name="Bulk: an operator's own", description="Mine")
    migration.mark_bulk_flows(apps, None)
    made.refresh_from_db()
    own.refresh_from_db()
    assert made.for_bulk
    assert not own.for_bulk


@pytest.mark.django_db
def test_the_bulk_list_reads_as_many_queries_for_many_messages_as_for_one(
    admin_client: Client, make_group: Any, make_channel: Any
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from audiences.models import AudienceGroup
    from audiences.targeting import Condition

    group, channel = make_group(PHONES), make_channel()
    url = reverse("admin:campaigns_bulkmessage_changelist")

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert admin_client.get(url).status_code == 200
        return len(ctx.captured_queries)

    bulk_message_create(
        message=BulkMessage(name="One", group=group, channel=channel, body="Hi")
    )
    one = queries()
    other = AudienceGroup.objects.create(name="Others")
    left_out = AudienceGroup.objects.create(name="Left out")
    for n in range(4):
        bulk_message_create(
            message=BulkMessage(
                name=f"More {n}",
                group=group,
                channel=make_channel(),
                body="Hi",
                also_groups=[other],
                excluded_groups=[left_out],
                rules=[Condition("NAME", "contains", "Ana")],
            )
        )
    page = admin_client.get(url).content.decode()
    assert page.count("+ Others − Left out, if") == 4  # each audience in words
    assert queries() == one
