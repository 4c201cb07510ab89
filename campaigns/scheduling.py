"""A campaign's clock: its django-celery-beat PeriodicTask, and the slot a tick is for.

Schedules are crontabs, not intervals: an interval is counted from the last run, so
beat's lateness adds up tick after tick until a slot is skipped; a crontab fires on
the boundary every time. Minute, hourly and daily boundaries are aligned on the
campaign's start (hourly at its minute, daily at its hour and minute) in TIME_ZONE.
"""

import datetime as dt
import json
from zoneinfo import ZoneInfo

from django.conf import settings
from django_celery_beat.models import ClockedSchedule, CrontabSchedule, PeriodicTask

from .models import Campaign, CampaignStatus, Schedule

TICK_TASK = "campaigns.tasks.tick"


def periodic_task_name(campaign: Campaign) -> str:
    return f"campaign {campaign.pk}: {campaign.name}"[:200]


def slot_for(campaign: Campaign, now: dt.datetime) -> dt.datetime | None:
    """Return the schedule slot a tick at ``now`` belongs to, or None before the start.

    Every tick inside one period maps to the same slot, however late beat fires, so
    the slot is what makes a duplicate tick recognisable.
    """
    start = campaign.start_at
    if now < start:
        return None
    if campaign.schedule == Schedule.ONCE:
        return start
    zone = ZoneInfo(settings.TIME_ZONE)
    local_now = now.astimezone(zone)
    local_start = start.astimezone(zone)
    slot = local_now.replace(second=0, microsecond=0)
    if campaign.schedule == Schedule.HOURLY:
        slot = slot.replace(minute=local_start.minute)
        if slot > local_now:
            slot -= dt.timedelta(hours=1)
    elif campaign.schedule == Schedule.DAILY:
        slot = slot.replace(hour=local_start.hour, minute=local_start.minute)
        if slot > local_now:
            day_before = slot.date() - dt.timedelta(days=1)
            slot = dt.datetime.combine(day_before, slot.timetz())
    return max(slot.astimezone(dt.UTC), start)


def _crontab_for(campaign: Campaign) -> CrontabSchedule:
    local_start = campaign.start_at.astimezone(ZoneInfo(settings.TIME_ZONE))
    minute, hour = "*", "*"
    if campaign.schedule == Schedule.HOURLY:
        minute = str(local_start.minute)
    elif campaign.schedule == Schedule.DAILY:
        minute, hour = str(local_start.minute), str(local_start.hour)
    crontab, _ = CrontabSchedule.objects.get_or_create(
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
        clocked, _ = ClockedSchedule.objects.get_or_create(
            clocked_time=campaign.start_at
        )
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
