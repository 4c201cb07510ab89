import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from audiences.models import Contact, Membership
from campaigns.lifecycle import campaign_transition
from campaigns.models import Campaign, CampaignEvent, CampaignRun
from campaigns.pace import (
    campaign_pace,
    campaign_run_estimate,
    duration_text,
)
from campaigns.runs import campaign_tick

MINUTE = dt.timedelta(minutes=1)


def minute_ago(minutes: int) -> dt.datetime:
    return timezone.now().replace(second=0, microsecond=0) - minutes * MINUTE


def add_run(
    campaign: Campaign,
    slot: dt.datetime,
    *,
    status: str = CampaignRun.Status.DONE,
    took: dt.timedelta | None = None,
) -> CampaignRun:
    run = CampaignRun.objects.create(
        campaign=campaign,
        scheduled_for=slot,
        flow_version_id=campaign.flow_version_id,
        status=status,
    )
    CampaignRun.objects.filter(pk=run.pk).update(
        started_at=slot, finished_at=slot + took if took is not None else None
    )
    return run


def in_progress(campaign: Campaign) -> Campaign:
    Campaign.objects.filter(pk=campaign.pk).update(status="in_progress")
    campaign.refresh_from_db()
    return campaign


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(45, "45 s"), (240, "4 min"), (2400, "40 min"), (7800, "2 h 10 min")],
)
def test_durations_read_as_an_operator_says_them(seconds: int, text: str) -> None:
    assert duration_text(dt.timedelta(seconds=seconds)) == text


@pytest.mark.django_db
def test_runs_longer_than_the_plan_with_skipped_and_missed_slots(
    make_campaign: Any,
) -> None:
    start = minute_ago(10)
    campaign = in_progress(
        make_campaign(started=True, schedule="minute", start_at=start)
    )
    slot = [start + n * MINUTE for n in range(11)]
    add_run(campaign, slot[0], took=3 * MINUTE)
    add_run(campaign, slot[1], status=CampaignRun.Status.SKIPPED)
    add_run(campaign, slot[2], status=CampaignRun.Status.SKIPPED)
    add_run(campaign, slot[3], took=4 * MINUTE)
    add_run(campaign, slot[7], took=5 * MINUTE)
    # Slot 10's minute is not over: its tick may still come.
    now = slot[10] + dt.timedelta(seconds=30)

    pace = campaign_pace(campaign=campaign, now=now)

    assert pace is not None
    assert pace.typical_run == 4 * MINUTE
    assert pace.runs_timed == 3
    assert pace.slow
    assert (pace.skipped, pace.missed) == (2, 5)
    assert pace.missed_slots == [slot[9], slot[8], slot[6], slot[5], slot[4]]
    assert pace.notice.startswith(
        "Runs take about 4 min; the plan is every minute; 2 slots skipped; "
        "5 slots missed (no tick ran for them)."
    )


@pytest.mark.django_db
def test_runs_that_fit_the_plan_say_nothing(make_campaign: Any) -> None:
    start = minute_ago(3)
    campaign = in_progress(
        make_campaign(started=True, schedule="minute", start_at=start)
    )
    for n in range(3):
        add_run(campaign, start + n * MINUTE, took=dt.timedelta(seconds=20))

    pace = campaign_pace(campaign=campaign, now=start + 3 * MINUTE)

    assert pace is not None
    assert pace.typical_run == dt.timedelta(seconds=20)
    assert (pace.skipped, pace.missed, pace.slow) == (0, 0, False)
    assert pace.notice == ""


@pytest.mark.django_db
def test_a_run_still_sending_past_the_period_is_told(make_campaign: Any) -> None:
    campaign = make_campaign(started=True, schedule="minute", start_at=minute_ago(0))
    run = campaign_tick(campaign_id=campaign.pk)
    assert run is not None
    campaign.refresh_from_db()

    pace = campaign_pace(campaign=campaign, now=run.started_at + 3 * MINUTE)

    assert pace is not None
    assert pace.sending_for == 3 * MINUTE
    assert pace.notice.startswith(
        "The current run has been sending for 3 min; the plan is every minute"
    )


@pytest.mark.django_db
def test_slots_after_a_suspension_are_not_missed(make_campaign: Any) -> None:
    start = minute_ago(10)
    campaign = in_progress(
        make_campaign(started=True, schedule="minute", start_at=start)
    )
    campaign_transition(campaign=campaign, to="suspended", note="suspended")
    CampaignEvent.objects.filter(campaign=campaign, to_status="suspended").update(
        at=start + 4 * MINUTE + dt.timedelta(seconds=10)
    )
    campaign.refresh_from_db()

    pace = campaign_pace(campaign=campaign, now=start + 10 * MINUTE)

    assert pace is not None
    assert pace.missed == 4  # the four minutes before it was suspended


@pytest.mark.django_db
def test_daily_and_hourly_slots_are_counted_from_the_start(
    make_campaign: Any,
) -> None:
    start = minute_ago(0) - dt.timedelta(days=3)
    daily = in_progress(
        make_campaign(started=True, start_at=start, end_at=start + dt.timedelta(30))
    )
    add_run(daily, start, took=MINUTE)
    hourly = in_progress(
        make_campaign(
            name="Hourly",
            started=True,
            schedule="hourly",
            start_at=start,
            end_at=start + dt.timedelta(days=30),
        )
    )
    add_run(hourly, start + dt.timedelta(hours=1), took=MINUTE)
    now = start + dt.timedelta(days=3, minutes=1)

    daily_pace = campaign_pace(campaign=daily, now=now)
    hourly_pace = campaign_pace(campaign=hourly, now=now)

    assert daily_pace is not None
    assert hourly_pace is not None
    assert (daily_pace.missed, daily_pace.plan) == (2, "every day")
    assert daily_pace.missed_slots == [
        start + dt.timedelta(days=2),
        start + dt.timedelta(days=1),
    ]
    assert hourly_pace.missed == 3 * 24 - 1
    assert not daily_pace.slow
    assert not hourly_pace.slow


@pytest.mark.django_db
def test_a_bulk_message_has_no_pace(make_campaign: Any) -> None:
    campaign = make_campaign(started=True, schedule="once")

    assert campaign_pace(campaign=campaign) is None
    assert campaign_run_estimate(campaign=campaign) is None


def big_group(make_group: Any, size: int) -> Any:
    group = make_group()
    Contact.objects.bulk_create(
        Contact(phone=f"+5255{n:08d}", name=f"Contact {n}") for n in range(size)
    )
    Membership.objects.bulk_create(
        Membership(group=group, contact=contact)
        for contact in Contact.objects.filter(phone__startswith="+5255")
    )
    return group


@pytest.mark.django_db
def test_the_estimate_warns_when_the_group_cannot_go_out_in_one_period(
    make_campaign: Any, make_flow: Any, make_channel: Any, make_group: Any
) -> None:
    channel = make_channel(name="SMS", rate_per_second=2)
    campaign = make_campaign(
        schedule="minute",
        flow=make_flow(channel=channel),
        group=big_group(make_group, 130),
    )

    estimate = campaign_run_estimate(campaign=campaign)

    assert estimate is not None
    assert estimate.takes == dt.timedelta(seconds=65)
    assert estimate.warning == (
        "It goes to 130 contacts; at 2 messages/s (channel 'SMS') a run takes "
        "about 65 s, longer than the plan's period (every minute): slots will be "
        "skipped while the previous run is still sending. A longer plan, a smaller "
        "group or a higher rate lets runs fit."
    )


@pytest.mark.django_db
def test_a_channel_without_a_rate_is_assumed_to_send_100_a_second(
    make_campaign: Any, make_group: Any
) -> None:
    campaign = make_campaign(schedule="minute", group=big_group(make_group, 130))

    estimate = campaign_run_estimate(campaign=campaign)

    assert estimate is not None
    assert (estimate.rate, estimate.rate_assumed) == (100, True)
    assert estimate.takes == dt.timedelta(seconds=1.3)
    assert estimate.warning == ""
    # On a daily plan, even a slow channel fits.
    Campaign.objects.filter(pk=campaign.pk).update(schedule="daily")
    campaign.refresh_from_db()
    estimate = campaign_run_estimate(campaign=campaign)
    assert estimate is not None
    assert estimate.warning == ""


@pytest.mark.django_db
def test_a_channel_keeping_many_in_flight_is_assumed_to_send_its_cap_ten_a_second(
    make_campaign: Any, make_group: Any, make_flow: Any, make_channel: Any
) -> None:
    hook = make_channel(
        kind="webhook",
        settings={"url": "https://hooks.example/x", "max_in_flight": 20},
    )
    campaign = make_campaign(
        schedule="minute",
        flow=make_flow(channel=hook),
        group=big_group(make_group, 130),
    )

    estimate = campaign_run_estimate(campaign=campaign)

    assert estimate is not None
    # 20 requests at once, each answered in about 100 ms.
    assert (estimate.rate, estimate.rate_assumed) == (200, True)
    assert estimate.takes == dt.timedelta(seconds=0.65)
