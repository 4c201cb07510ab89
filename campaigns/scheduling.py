"""A campaign's clock: its django-celery-beat PeriodicTask, and the slot a tick is for.

Schedules are crontabs, not intervals: an interval is counted from the last run, so
beat's lateness adds up tick after tick until a slot is skipped; a crontab fires on
the boundary every time. Minute, hourly and daily boundaries are aligned on the
campaign's start (hourly at its minute, daily at its hour and minute) in TIME_ZONE.
"""

import datetime as dt
import json
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django_celery_beat.models import (
    ClockedSchedule,
    CrontabSchedule,
    PeriodicTask,
    PeriodicTasks,
)

from .models import Campaign, CampaignStatus, Schedule

TICK_TASK = "campaigns.tasks.tick"


def periodic_task_name(campaign: Campaign) -> str:
    return f"campaign {campaign.pk}: {campaign.name}"[:200]


# Beat and the worker may read slightly different clocks: a tick that arrives a little
# "early" by the worker's clock still belongs to the slot beat fired it for.
TICK_GRACE = dt.timedelta(seconds=5)


def slot_for(campaign: Campaign, now: dt.datetime) -> dt.datetime | None:
    """Return the schedule slot a tick at ``now`` belongs to, or None before the start.

    Every tick inside one period maps to the same slot, however late beat fires, so
    the slot is what makes a duplicate tick recognisable. Minutes and hours are counted
    in absolute time (an hour is an hour across a DST change); days by the local date
    in TIME_ZONE, at the start's local time, taking the first of a repeated hour.
    """
    start = campaign.start_at
    if now < start:
        return None
    if campaign.schedule == Schedule.ONCE:
        return start
    if campaign.schedule == Schedule.MINUTE:
        return now.astimezone(dt.UTC).replace(second=0, microsecond=0)
    if campaign.schedule == Schedule.HOURLY:
        hour = dt.timedelta(hours=1)
        return start + ((now - start) // hour) * hour
    zone = ZoneInfo(settings.TIME_ZONE)
    start_clock = start.astimezone(zone).time().replace(tzinfo=None, fold=0)

    def on(day: dt.date) -> dt.datetime:
        return dt.datetime.combine(day, start_clock, tzinfo=zone).astimezone(dt.UTC)

    today = now.astimezone(zone).date()
    slot = on(today)
    if slot > now:
        slot = on(today - dt.timedelta(days=1))
    return max(slot, start)


def next_slot(campaign: Campaign, now: dt.datetime) -> dt.datetime | None:
    """When the campaign's next run is due after ``now``; None when none is left."""
    start = campaign.start_at
    if now < start:
        upcoming: dt.datetime | None = start
    elif campaign.schedule == Schedule.ONCE:
        upcoming = None
    elif campaign.schedule == Schedule.MINUTE:
        upcoming = now.astimezone(dt.UTC).replace(
            second=0, microsecond=0
        ) + dt.timedelta(minutes=1)
    elif campaign.schedule == Schedule.HOURLY:
        current = slot_for(campaign, now)
        upcoming = current + dt.timedelta(hours=1) if current else start
    else:
        zone = ZoneInfo(settings.TIME_ZONE)
        clock = start.astimezone(zone).time().replace(tzinfo=None, fold=0)
        day = now.astimezone(zone).date()
        upcoming = dt.datetime.combine(day, clock, tzinfo=zone).astimezone(dt.UTC)
        if upcoming <= now:
            upcoming = dt.datetime.combine(
                day + dt.timedelta(days=1), clock, tzinfo=zone
            ).astimezone(dt.UTC)
    if upcoming is None or upcoming >= campaign.end_at:
        return None
    return upcoming


def _first_or_create(model: type[Any], **fields: Any) -> Any:
    # django-celery-beat's schedule tables have no unique key: an operator may have
    # added the same schedule twice, so get_or_create could raise.
    found = model.objects.filter(**fields).order_by("pk").first()
    return found or model.objects.create(**fields)


def _crontab_for(campaign: Campaign) -> CrontabSchedule:
    local_start = campaign.start_at.astimezone(ZoneInfo(settings.TIME_ZONE))
    minute, hour = "*", "*"
    if campaign.schedule == Schedule.HOURLY:
        minute = str(local_start.minute)
    elif campaign.schedule == Schedule.DAILY:
        minute, hour = str(local_start.minute), str(local_start.hour)
    crontab: CrontabSchedule = _first_or_create(
        CrontabSchedule,
        minute=minute,
        hour=hour,
        day_of_week="*",
        day_of_month="*",
        month_of_year="*",
        timezone=settings.TIME_ZONE,
    )
    return crontab


def campaign_sync_schedule(*, campaign: Campaign) -> PeriodicTask:
    """Create or update the campaign's PeriodicTask so beat ticks it while it may run.

    Enabled only while the campaign is pending or in progress; beat waits for
    ``start_time`` before the first tick. Idempotent.
    """
    task = campaign.periodic_task or PeriodicTask(task=TICK_TASK)
    # Before start_time, django-celery-beat sleeps until the first crontab boundary
    # *after* start_time: given the start itself, the first run would slip a whole
    # period (a day, for a daily campaign). One second earlier, that boundary is the
    # start. A tick in that second finds the campaign not started and does nothing.
    start_time = campaign.start_at - dt.timedelta(seconds=1)
    # A new or moved start counts from itself, not from an older run.
    if task.pk is None or task.start_time != start_time:
        task.last_run_at = None
    task.name = periodic_task_name(campaign)
    task.task = TICK_TASK
    task.kwargs = json.dumps({"campaign_id": campaign.pk})
    task.start_time = start_time
    task.enabled = campaign.status in (
        CampaignStatus.PENDING,
        CampaignStatus.IN_PROGRESS,
    )
    task.description = (
        f"Runs campaign {campaign.name!r} ({campaign.get_schedule_display()})."
    )
    # Ticks left unsent while workers are busy lose their point after one period.
    task.expire_seconds = 50 if campaign.schedule == Schedule.MINUTE else 3000
    if campaign.schedule == Schedule.ONCE:
        clocked = _first_or_create(ClockedSchedule, clocked_time=campaign.start_at)
        task.clocked, task.crontab, task.one_off = clocked, None, True
    else:
        task.crontab, task.clocked, task.one_off = _crontab_for(campaign), None, False
    task.save()
    if campaign.periodic_task_id != task.pk:
        Campaign.objects.filter(pk=campaign.pk).update(periodic_task=task)
        campaign.periodic_task = task
    return task


def campaign_drop_schedule(*, campaign: Campaign) -> None:
    if campaign.periodic_task_id is not None:
        PeriodicTask.objects.filter(pk=campaign.periodic_task_id).delete()
        campaign.periodic_task = None
        # Beat re-reads its schedule when this changes; a queryset delete may skip
        # the model signals that bump it.
        PeriodicTasks.update_changed()
