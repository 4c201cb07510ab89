"""The campaign page tells operators when runs do not fit the plan; the form warns
at save when the group cannot be sent in one period."""

import datetime as dt
import time
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from campaigns.models import Campaign, CampaignRun
from tests.campaigns.test_admin import form_data
from tests.campaigns.test_pace import (
    MINUTE,
    add_run,
    big_group,
    in_progress,
    minute_ago,
)
from tests.lazy_parts import page_with_parts


@pytest.fixture
def within_one_minute() -> None:
    """The slots missed depend on the minute the pages are read in: start the test
    early in a minute, so that a slow machine reads both pages in the one it starts
    in (a minute turning between them made a second slot missed)."""
    second = timezone.now().second
    if second >= 30:
        time.sleep(61 - second)


@pytest.mark.django_db
@pytest.mark.usefixtures("within_one_minute")
def test_the_campaign_page_says_runs_take_longer_than_the_plan(
    admin_client: Client, make_campaign: Any
) -> None:
    start = minute_ago(6)
    campaign = in_progress(
        make_campaign(started=True, schedule="minute", start_at=start)
    )
    add_run(campaign, start, took=4 * MINUTE)
    for n in (1, 2, 3):
        run = add_run(campaign, start + n * MINUTE, status=CampaignRun.Status.SKIPPED)
        CampaignRun.objects.filter(pk=run.pk).update(
            note="skipped: the previous run still had 80 messages to send"
        )
    add_run(campaign, start + 4 * MINUTE, took=4 * MINUTE)
    missed = timezone.localtime(start + 5 * MINUTE)

    page = page_with_parts(
        admin_client, reverse("admin:campaigns_campaign_change", args=[campaign.pk])
    )

    assert "Runs do not fit the plan" in page
    assert (
        "Runs take about 4 min; the plan is every minute; 3 slots skipped; "
        "1 slot missed (no tick ran for them)." in page
    )
    # The monitor lists the skipped runs with their reason and the missed slot.
    assert page.count("the previous run still had 80 messages to send") == 3
    assert f"{missed:%Y-%m-%d %H:%M}</td>\n        <td>Missed" in page
    assert "Since the start: 3 slots skipped, 1 missed." in page
    # The list of its runs, reached from the monitor, names the missed slot too.
    runs = admin_client.get(
        reverse("admin:campaigns_campaignrun_changelist"),
        {"campaign__id__exact": campaign.pk},
    ).content.decode()
    assert (
        f"{campaign.name}: 1 slot missed since its start, with no run at all (no "
        f"tick ran for it): the newest {missed:%Y-%m-%d %H:%M}." in runs
    )


@pytest.mark.django_db
def test_a_campaign_whose_runs_fit_shows_no_notice(
    admin_client: Client, make_campaign: Any
) -> None:
    start = minute_ago(2)
    campaign = in_progress(
        make_campaign(started=True, schedule="minute", start_at=start)
    )
    for n in (0, 1):
        add_run(campaign, start + n * MINUTE, took=dt.timedelta(seconds=10))

    page = page_with_parts(
        admin_client, reverse("admin:campaigns_campaign_change", args=[campaign.pk])
    )

    assert "Runs do not fit the plan" not in page
    assert "Recent runs took about 10 s to send" in page


@pytest.mark.django_db
def test_the_runs_list_shows_why_a_slot_was_skipped(
    admin_client: Client, make_campaign: Any
) -> None:
    campaign = make_campaign(started=True, schedule="minute")
    run = add_run(campaign, minute_ago(1), status=CampaignRun.Status.SKIPPED)
    CampaignRun.objects.filter(pk=run.pk).update(
        note="skipped: the previous run still had 80 messages to send"
    )
    add_run(campaign, minute_ago(2), took=dt.timedelta(minutes=3))

    page = admin_client.get(
        reverse("admin:campaigns_campaignrun_changelist"),
        {"status__exact": "skipped"},
    ).content.decode()
    every = admin_client.get(
        reverse("admin:campaigns_campaignrun_changelist")
    ).content.decode()

    assert (
        'Skipped<div class="help">the previous run still had 80 messages to send'
        in page
    )
    assert "3 min" not in page
    assert "3 min" in every


@pytest.mark.django_db
def test_saving_a_plan_the_group_cannot_keep_up_with_warns(
    admin_client: Client, make_flow: Any, make_channel: Any, make_group: Any
) -> None:
    channel = make_channel(name="SMS", rate_per_second=2)
    start = timezone.localtime() + dt.timedelta(hours=2)
    data = form_data(
        {
            "name": "Too fast",
            "flow": make_flow(channel=channel).pk,
            "group": big_group(make_group, 130).pk,
            "start_at": start,
            "end_at": start + dt.timedelta(days=1),
            "schedule": "minute",
        }
    )

    response = admin_client.post(
        reverse("admin:campaigns_campaign_add"), data, follow=True
    )

    assert Campaign.objects.filter(name="Too fast").exists()  # saved all the same
    warnings = [
        str(m) for m in get_messages(response.wsgi_request) if m.level_tag == "warning"
    ]
    assert warnings == [
        "It goes to 130 contacts; at 2 messages/s (channel 'SMS') a run takes "
        "about 65 s, longer than the plan's period (every minute): slots will be "
        "skipped while the previous run is still sending. A longer plan, a smaller "
        "group or a higher rate lets runs fit."
    ]
    assert "a run takes about 65 s" in response.content.decode()

    # The same campaign on an hourly plan saves without a warning.
    campaign = Campaign.objects.get(name="Too fast")
    data["schedule"] = "hourly"
    response = admin_client.post(
        reverse("admin:campaigns_campaign_change", args=[campaign.pk]),
        data,
        follow=True,
    )
    # Saved, told whom it goes to (campaigns.targeting), and nothing to warn of.
    assert [m.level_tag for m in get_messages(response.wsgi_request)] == [
        "info",
        "success",
    ]
