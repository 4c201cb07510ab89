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
from tests.lazy_parts import page_with_parts


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

    page = page_with_parts(
        admin_client, reverse("admin:campaigns_campaign_change", args=[campaign.pk])
    )

    assert "Sent: 1" in page
    assert "Queued: 2" in page
    assert "33% sending" in page
    assert 'class="sends-chart"' in page
    assert "Overlap policy" in page


@pytest.mark.django_db
def test_the_campaign_page_counts_after_it_is_shown(
    admin_client: Client, client: Client, make_campaign: Any
) -> None:
    campaign = running(make_campaign)
    campaign_tick(campaign_id=campaign.pk)
    change = reverse("admin:campaigns_campaign_change", args=[campaign.pk])

    page = admin_client.get(change).content.decode()

    # The page itself holds the slots, not the counts (a million contacts, a big
    # run's messages: a second each); each part answers at its own address.
    assert "Counting its messages…" in page
    assert "Queued: 3" not in page
    monitor = reverse("admin:campaigns_campaign_monitor", args=[campaign.pk])
    audience = reverse("admin:campaigns_campaign_audience", args=[campaign.pk])
    assert f'data-lazy-url="{monitor}"' in page
    assert admin_client.get(audience).content.decode() == "Goes to 3 contacts."
    assert "Queued: 3" in admin_client.get(monitor).content.decode()
    unknown = reverse("admin:campaigns_campaign_monitor", args=[campaign.pk + 999])
    assert admin_client.get(unknown).status_code == 404
    # Not signed in: the console's sign-in, nothing counted.
    assert client.get(monitor).status_code == 302


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


@pytest.mark.django_db
def test_the_campaign_list_costs_the_same_queries_for_5_or_50_rows(
    admin_client: Client, make_campaign: Any, make_flow: Any, make_group: Any
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    flow, group = make_flow(), make_group(PHONES)
    url = reverse("admin:campaigns_campaign_changelist")

    def queries_with(total: int) -> int:
        while Campaign.objects.count() < total:
            make_campaign(name=f"c{Campaign.objects.count()}", flow=flow, group=group)
        with CaptureQueriesContext(connection) as captured:
            assert admin_client.get(url).status_code == 200
        return len(captured.captured_queries)

    assert queries_with(5) == queries_with(50)


@pytest.mark.django_db
def test_a_bulk_message_sent_while_the_list_was_open_cannot_be_finished_from_it(
    admin_client: Client, make_campaign: Any
) -> None:
    from campaigns.lifecycle import CampaignRefused, campaign_end

    bulk = running(make_campaign, schedule="once")
    stale = Campaign.objects.get(pk=bulk.pk)
    stale._has_runs = False  # type: ignore[attr-defined]  # as the list read it
    campaign_tick(campaign_id=bulk.pk)  # the send happens meanwhile

    with pytest.raises(CampaignRefused, match="can no longer be cancelled"):
        campaign_end(campaign=stale)


@pytest.mark.django_db
def test_saving_a_suspended_campaign_needs_the_right_to_resume(
    client: Client, make_campaign: Any
) -> None:
    from django.contrib.auth.models import Permission, User

    campaign = running(make_campaign)
    campaign_suspend(campaign=campaign)
    user = User.objects.create_user("op", password="pw", is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=["change_campaign", "view_campaign"])
    )
    client.force_login(user)
    change_url = reverse("admin:campaigns_campaign_change", args=[campaign.pk])
    assert client.post(change_url, {"name": "Resumed anyway"}).status_code == 403
    assert Campaign.objects.get(pk=campaign.pk).status == "suspended"
    # A bulk message publishes a flow: adding campaigns alone is not enough.
    user.user_permissions.add(Permission.objects.get(codename="add_campaign"))
    assert client.get(reverse("admin:campaigns_bulk")).status_code == 403


@pytest.mark.django_db
def test_a_read_only_campaign_page_drops_the_how_to_fill_in_help(
    admin_client: Client, make_campaign: Any
) -> None:
    campaign = make_campaign(started=True)
    Campaign.objects.filter(pk=campaign.pk).update(status="in_progress")

    page = admin_client.get(
        reverse("admin:campaigns_campaign_change", args=[campaign.pk])
    ).content.decode()

    assert "fieldset .form-row div.help { display: none; }" in page


@pytest.mark.django_db
def test_a_suspended_campaigns_form_says_that_saving_resumes_it(
    admin_client: Client, make_campaign: Any
) -> None:
    campaign = make_campaign()
    Campaign.objects.filter(pk=campaign.pk).update(status="suspended")

    page = admin_client.get(
        reverse("admin:campaigns_campaign_change", args=[campaign.pk])
    ).content.decode()

    assert "This campaign is suspended. Saving it resumes it" in page
    assert "fieldset .form-row div.help { display: none; }" not in page


@pytest.mark.django_db
def test_deleting_a_campaign_says_what_goes_in_numbers_and_takes_it_set_wise(
    admin_client: Client, make_campaign: Any
) -> None:
    from flows.models import Journey
    from messaging.models import Message

    campaign = make_campaign(started=True)
    Campaign.objects.filter(pk=campaign.pk).update(status="in_progress")
    campaign_tick(campaign_id=campaign.pk)
    campaign.refresh_from_db()
    campaign_transition(campaign=campaign, to="suspended")
    url = reverse("admin:campaigns_campaign_delete", args=[campaign.pk])

    page = admin_client.get(url).content.decode()

    assert "Messages: 3" in page
    assert "Runs: 1" in page
    assert "Message " not in page  # no row-by-row list
    response = admin_client.post(url, {"post": "yes"})
    assert response.status_code == 302
    assert not Campaign.objects.filter(pk=campaign.pk).exists()
    assert not Message.objects.exists()
    assert not Journey.objects.exists()


@pytest.mark.django_db
def test_the_history_says_who_changed_the_status_and_shows_no_change_as_none(
    admin_client: Client, admin_user: Any, make_campaign: Any
) -> None:
    import re

    campaign = make_campaign(started=True)
    campaign_transition(campaign=campaign, to="in_progress", note="start time reached")
    campaign_suspend(campaign=campaign, actor=admin_user)
    page = admin_client.get(
        reverse("admin:campaigns_campaign_change", args=[campaign.pk])
    ).content.decode()
    history = page[page.index('id="events-group"') :]
    rows = [
        re.sub(r"<[^>]+>|\s+", " ", row).split()
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", history, re.S)
    ]
    words = [" ".join(row) for row in rows]

    assert any("In progress Suspended admin" in row for row in words), words
    assert any("the schedule start time reached" in row for row in words), words
    created = next(row for row in words if row.endswith("created"))
    assert "— Pending execution" in created
    assert "Pending execution Pending execution" not in created


@pytest.mark.django_db
def test_the_history_reads_its_actors_with_it(
    admin_client: Client, admin_user: Any, make_campaign: Any
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from campaigns.lifecycle import campaign_resume

    campaign = running(make_campaign)
    url = reverse("admin:campaigns_campaign_change", args=[campaign.pk])
    campaign_suspend(campaign=campaign, actor=admin_user)
    with CaptureQueriesContext(connection) as few:
        admin_client.get(url)
    for _ in range(3):
        campaign = campaign_resume(
            campaign=campaign,
            start_at=timezone.now() + dt.timedelta(hours=1),
            actor=admin_user,
        )
        campaign_transition(campaign=campaign, to="in_progress")
        campaign_suspend(campaign=campaign, actor=admin_user)
    assert campaign.events.exclude(actor=None).count() >= 7
    with CaptureQueriesContext(connection) as many:
        admin_client.get(url)

    assert len(many.captured_queries) == len(few.captured_queries), [
        q["sql"][:150] for q in many.captured_queries
    ]
