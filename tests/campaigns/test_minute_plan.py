"""A minute-plan campaign from start to end, with time driven by the test: one run per
minute however many ticks come, ended by itself, stopped by a pause, resumed from a
new start; and a beat that was down catches up once, not in a burst."""

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone
from django_celery_beat.schedulers import DatabaseScheduler

from campaigns.clock import campaigns_advance
from campaigns.lifecycle import campaign_resume, campaign_suspend
from campaigns.models import Campaign, CampaignRun
from campaigns.runs import campaign_tick
from config.celery import app
from messaging.models import Message


def tick_every_30_seconds(
    campaign: Campaign, start: dt.datetime, end: dt.datetime
) -> None:
    moment = start
    while moment < end:
        campaign_tick(campaign_id=campaign.pk, now=moment)
        campaigns_advance(now=moment)
        # The workers keep up: every run has sent before the next slot.
        Message.objects.filter(status="queued").update(status="sent")
        moment += dt.timedelta(seconds=30)


@pytest.mark.django_db
def test_a_minute_campaign_runs_once_a_minute_then_ends_by_itself(
    make_campaign: Any,
) -> None:
    start = timezone.now().replace(second=0, microsecond=0) - dt.timedelta(minutes=1)
    end = start + dt.timedelta(minutes=5)
    campaign = make_campaign(
        started=True, schedule="minute", start_at=start, end_at=end
    )

    tick_every_30_seconds(campaign, start, end + dt.timedelta(minutes=2))

    slots = list(
        CampaignRun.objects.filter(campaign=campaign)
        .order_by("scheduled_for")
        .values_list("scheduled_for", flat=True)
    )
    assert slots == [start + dt.timedelta(minutes=n) for n in range(5)]
    campaign.refresh_from_db()
    assert campaign.status == "ended"
    assert campaign.events.filter(to_status="ended", note="end time reached").exists()
    assert campaign.periodic_task is not None
    assert not campaign.periodic_task.enabled


@pytest.mark.django_db
def test_pausing_stops_the_runs_and_resuming_starts_them_from_the_new_start(
    make_campaign: Any,
) -> None:
    now = timezone.now().replace(second=0, microsecond=0)
    start = now - dt.timedelta(minutes=3)
    campaign = make_campaign(
        started=True,
        schedule="minute",
        start_at=start,
        end_at=now + dt.timedelta(hours=1),
    )
    tick_every_30_seconds(campaign, start, start + dt.timedelta(minutes=2))
    assert CampaignRun.objects.count() == 2

    campaign_suspend(campaign=campaign)
    tick_every_30_seconds(
        campaign, start + dt.timedelta(minutes=2), now + dt.timedelta(minutes=2)
    )
    assert CampaignRun.objects.count() == 2
    campaign.refresh_from_db()
    assert campaign.periodic_task is not None
    assert not campaign.periodic_task.enabled

    restart = now + dt.timedelta(minutes=10)
    campaign_resume(campaign=campaign, start_at=restart)
    campaign.refresh_from_db()
    assert campaign.status == "pending"
    assert campaign.periodic_task is not None
    assert campaign.periodic_task.enabled
    tick_every_30_seconds(
        campaign, now + dt.timedelta(minutes=2), restart + dt.timedelta(minutes=2)
    )
    later = CampaignRun.objects.order_by("scheduled_for")[2:]
    assert [run.scheduled_for for run in later] == [
        restart,
        restart + dt.timedelta(minutes=1),
    ]


@pytest.mark.django_db
def test_after_beat_was_down_an_hour_it_catches_up_with_one_tick_not_sixty(
    make_campaign: Any,
) -> None:
    from django_celery_beat.models import PeriodicTask

    campaign = make_campaign(started=True, schedule="minute")
    PeriodicTask.objects.filter(pk=campaign.periodic_task_id).update(
        last_run_at=timezone.now() - dt.timedelta(hours=1)
    )
    scheduler = DatabaseScheduler(app=app, lazy=True)
    entry = scheduler.Entry(
        PeriodicTask.objects.get(pk=campaign.periodic_task_id), app=app
    )

    due, _ = entry.is_due()
    assert due  # one catch-up tick...
    after = next(entry)  # ...which beat records as run now
    due_again, wait = after.is_due()
    assert not due_again  # ...and the next only at the next minute
    assert 0 < wait <= 60
    # That one tick opens one run, for the current minute.
    run = campaign_tick(campaign_id=campaign.pk)
    assert run is not None
    assert CampaignRun.objects.count() == 1
