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


@override_settings(TIME_ZONE="America/Mexico_City")
def test_daily_slots_follow_the_local_clock_across_a_dst_change() -> None:
    # Mexico City has no DST since 2022; New York does: use it for the change.
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
