import datetime as dt
import json
from typing import Any

import pytest
from django.test import override_settings
from django.utils import timezone
from django_celery_beat.models import PeriodicTask
from django_celery_beat.schedulers import DatabaseScheduler

from campaigns.lifecycle import campaign_delete, campaign_suspend, campaign_transition
from campaigns.models import Campaign
from campaigns.scheduling import slot_for
from config.celery import app

UTC = dt.UTC


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


def campaign_of(schedule: str, start: str) -> Campaign:
    return Campaign(
        schedule=schedule, start_at=at(start), end_at=at("2030-01-01T00:00")
    )


@pytest.mark.parametrize(
    ("schedule", "start", "now", "slot"),
    [
        ("minute", "2026-03-01T10:00", "2026-03-01T10:05:42", "2026-03-01T10:05"),
        ("hourly", "2026-03-01T10:20", "2026-03-01T13:19:59", "2026-03-01T12:20"),
        ("hourly", "2026-03-01T10:20", "2026-03-01T13:20:03", "2026-03-01T13:20"),
        ("daily", "2026-03-01T09:30", "2026-03-04T09:29", "2026-03-03T09:30"),
        ("daily", "2026-03-01T09:30", "2026-03-04T09:31", "2026-03-04T09:30"),
        ("once", "2026-03-01T09:30", "2026-03-04T09:31", "2026-03-01T09:30"),
    ],
)
def test_every_tick_in_a_period_maps_to_that_period_slot(
    schedule: str, start: str, now: str, slot: str
) -> None:
    assert slot_for(campaign_of(schedule, start), at(now)) == at(slot)


def test_no_slot_before_the_start() -> None:
    assert (
        slot_for(campaign_of("daily", "2026-03-01T09:30"), at("2026-03-01T09:29"))
        is None
    )


def test_daily_slots_follow_the_local_clock_across_a_dst_change() -> None:
    with override_settings(TIME_ZONE="America/New_York"):
        campaign = campaign_of("daily", "2026-03-01T14:00")  # 09:00 EST
        # 2026-03-08 is the spring-forward day: 09:00 EDT is 13:00 UTC.
        assert slot_for(campaign, at("2026-03-08T13:00:05")) == at("2026-03-08T13:00")
        assert slot_for(campaign, at("2026-03-08T12:59")) == at("2026-03-07T14:00")


@pytest.mark.django_db
def test_saving_a_campaign_creates_its_beat_task(make_campaign: Any) -> None:
    campaign = make_campaign(schedule="daily")

    task = PeriodicTask.objects.get(pk=campaign.periodic_task_id)
    assert task.task == "campaigns.tasks.tick"
    assert json.loads(task.kwargs) == {"campaign_id": campaign.pk}
    assert task.enabled
    local = timezone.localtime(campaign.start_at)
    assert (task.crontab.minute, task.crontab.hour) == (
        str(local.minute),
        str(local.hour),
    )
    assert task.crontab.day_of_week == "*"


@pytest.mark.django_db
def test_a_bulk_message_gets_a_one_off_clocked_task(make_campaign: Any) -> None:
    campaign = make_campaign(schedule="once")

    task = PeriodicTask.objects.get(pk=campaign.periodic_task_id)
    assert task.one_off
    assert task.clocked.clocked_time == campaign.start_at
    assert task.crontab is None


@pytest.mark.django_db
@pytest.mark.parametrize("schedule", ["minute", "hourly", "daily"])
def test_beat_wakes_for_the_first_run_at_the_start_not_a_period_later(
    make_campaign: Any, schedule: str
) -> None:
    campaign = make_campaign(schedule=schedule)
    entry = DatabaseScheduler(app=app, lazy=True).Entry(
        PeriodicTask.objects.get(pk=campaign.periodic_task_id), app=app
    )

    due, wait = entry.is_due()

    assert not due
    expected = (campaign.start_at - timezone.now()).total_seconds()
    assert expected - 2 <= wait <= expected + 2


@pytest.mark.django_db
def test_beat_finds_a_started_campaign_due(make_campaign: Any) -> None:
    campaign = make_campaign(started=True, schedule="hourly")
    entry = DatabaseScheduler(app=app, lazy=True).Entry(
        PeriodicTask.objects.get(pk=campaign.periodic_task_id), app=app
    )

    assert entry.is_due()[0]


@pytest.mark.django_db
def test_suspending_disables_the_beat_task_and_deleting_removes_it(
    make_campaign: Any,
) -> None:
    campaign = make_campaign(started=True)
    campaign_transition(campaign=campaign, to="in_progress")

    campaign_suspend(campaign=campaign)
    assert not PeriodicTask.objects.get(pk=campaign.periodic_task_id).enabled

    task_id = campaign.periodic_task_id
    campaign_delete(campaign=campaign)
    assert not PeriodicTask.objects.filter(pk=task_id).exists()


@pytest.mark.parametrize(
    ("start", "late_tick", "slot"),
    [
        # Spring forward: the 01:30 EST tick runs 40 minutes late.
        ("2026-03-01T06:30", "2026-03-08T07:10", "2026-03-08T06:30"),
        # Fall back: the 01:20 EDT tick runs 50 minutes late.
        ("2026-10-25T05:20", "2026-11-01T06:10", "2026-11-01T05:20"),
    ],
)
def test_late_hourly_ticks_across_a_dst_change_keep_their_slot(
    start: str, late_tick: str, slot: str
) -> None:
    with override_settings(TIME_ZONE="America/New_York"):
        assert slot_for(campaign_of("hourly", start), at(late_tick)) == at(slot)


def test_a_daily_run_in_the_repeated_hour_happens_once() -> None:
    with override_settings(TIME_ZONE="America/New_York"):
        campaign = campaign_of("daily", "2026-10-25T05:30")  # 01:30 EDT
        first = slot_for(campaign, at("2026-11-01T05:30:02"))  # 01:30 EDT
        second = slot_for(campaign, at("2026-11-01T06:30:02"))  # 01:30 EST
    assert first == second == at("2026-11-01T05:30")


@pytest.mark.parametrize("schedule", ["minute", "hourly", "daily"])
def test_a_slot_is_never_after_the_tick_nor_more_than_a_period_before_it(
    schedule: str,
) -> None:
    period = {
        "minute": dt.timedelta(minutes=1),
        "hourly": dt.timedelta(hours=1),
        "daily": dt.timedelta(hours=25),  # a local day may last 25 hours
    }[schedule]
    with override_settings(TIME_ZONE="America/New_York"):
        campaign = campaign_of(schedule, "2026-10-30T05:30")
        now = at("2026-10-30T05:30")
        while now < at("2026-11-03T00:00"):
            slot = slot_for(campaign, now)
            assert slot is not None
            assert now - period < slot <= now, (now, slot)
            now += dt.timedelta(minutes=7, seconds=13)


@pytest.mark.django_db
def test_an_operator_duplicate_of_a_schedule_row_does_not_break_saving(
    make_campaign: Any,
) -> None:
    from django_celery_beat.models import CrontabSchedule

    from campaigns.scheduling import campaign_sync_schedule

    campaign = make_campaign(schedule="minute")
    for _ in range(2):
        CrontabSchedule.objects.create(
            minute="*",
            hour="*",
            day_of_week="*",
            day_of_month="*",
            month_of_year="*",
            timezone="UTC",
        )

    task = campaign_sync_schedule(campaign=campaign)

    assert task.crontab.minute == "*"
