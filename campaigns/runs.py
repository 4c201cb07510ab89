"""Campaign runs: what one beat tick does.

A tick locks its campaign row, opens the run for its schedule slot and fans the flow's
messages out to the group in the same transaction, so a run exists exactly when its
messages do. Holding the lock means an operator's End or Suspend waits for the fan-out
to commit, and then sees (and cancels) every message it made. A run per (campaign,
slot) at most: a duplicate tick (a second beat, a redelivered task, django-celery-beat
re-firing after a schedule change) finds the slot's run and does nothing.

Overlap policy: when a slot comes while the previous run still has messages to send
(queued, deferred for active hours, or being sent), the slot is skipped and recorded
as a skipped run, so a minute plan on a big group never piles runs up.
"""

import datetime as dt
import logging

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from flows.cohorts import cohort_open, cohorts_busy, cohorts_end
from flows.engine import journeys_start
from flows.models import Cohort
from messaging.models import Message
from messaging.outbox import unsent_count

from .clock import campaign_end_if_due, campaign_start_if_due
from .counting import run_store_counts
from .models import Campaign, CampaignRun, CampaignStatus
from .scheduling import TICK_GRACE, slot_for
from .streaming import runs_finished_emit
from .targeting import campaign_audience

logger = logging.getLogger(__name__)


def campaign_tick(
    *, campaign_id: int, now: dt.datetime | None = None
) -> CampaignRun | None:
    """Open the campaign's run for the slot of ``now`` and create its messages.

    Return the new run, or None when nothing was due: the campaign is gone, not yet
    started, suspended or ended, or this slot already has its run. Idempotent.
    """
    now = now or timezone.now()
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().filter(pk=campaign_id).first()
        if campaign is None:
            logger.warning("tick for campaign %s, which no longer exists", campaign_id)
            return None
        if campaign_end_if_due(campaign=campaign, now=now):
            return None
        moment = now + TICK_GRACE
        campaign_start_if_due(campaign=campaign, now=moment)
        if campaign.status != CampaignStatus.IN_PROGRESS:
            return None
        slot = slot_for(campaign, moment)
        if slot is None:
            return None
        if CampaignRun.objects.filter(campaign=campaign, scheduled_for=slot).exists():
            logger.info("campaign %s: slot %s already has its run", campaign.pk, slot)
            return None
        unsent = _unsent_of_previous_run(campaign)
        if unsent:
            # Overlap policy: a run still sending when the next slot comes means the
            # plan is tighter than the channel; skip the slot, record why.
            skipped = CampaignRun.objects.create(
                campaign=campaign,
                scheduled_for=slot,
                flow_version_id=campaign.flow_version_id,
                status=CampaignRun.Status.SKIPPED,
                note=f"skipped: the previous run still had {unsent} messages to send",
            )
            runs_finished_emit(run_ids=[skipped.pk])
            logger.warning(
                "campaign %s: slot %s skipped, %d messages of the previous run unsent",
                campaign.pk,
                slot.isoformat(),
                unsent,
            )
            return None
        run = CampaignRun.objects.create(
            campaign=campaign,
            scheduled_for=slot,
            flow_version_id=campaign.flow_version_id,
        )
        run_fan_out(run=run, now=now)
    logger.info(
        "campaign %s: run %s for %s, %d messages for %d contacts (%d opted out)",
        campaign.pk,
        run.pk,
        slot.isoformat(),
        run.messages_created,
        run.recipients,
        run.skipped,
    )
    return run


def run_fan_out(*, run: CampaignRun, now: dt.datetime) -> None:
    """Open the run's cohort (its batch carries the campaign's sender and active
    hours) and put the campaign's audience (campaigns.targeting) on the flow, each
    contact once, with the run's counts."""
    campaign = run.campaign
    run.cohort = cohort_open(
        version=run.flow_version,
        name=str(run),
        sender_name=campaign.sender_name,
        reply_to=campaign.reply_to,
        window=campaign.window,
        tags={"run": run.pk, "language": campaign.language},
        reply_team=campaign.reply_team,
        reply_user=campaign.reply_user,
        send_at_local=campaign.send_at_local,
        local_zone=campaign.timezone,
    )
    members = campaign_audience(campaign)
    # Counted first: the flow may take its contacts out of the group (a group step).
    run.skipped = members.filter(opted_out_at__isnull=False).count()
    moved = journeys_start(cohort=run.cohort, contacts=members, now=now)
    run.recipients = moved.entered
    run.messages_created = moved.messages
    run.save(update_fields=["cohort", "recipients", "skipped", "messages_created"])


def _unsent_of_previous_run(campaign: Campaign) -> int:
    """Messages of the campaign's latest run still queued, deferred or being sent."""
    previous = (
        CampaignRun.objects.filter(
            campaign=campaign,
            status=CampaignRun.Status.RUNNING,
            cohort__isnull=False,
        )
        .order_by("-scheduled_for")
        .values_list("cohort__batch_id", flat=True)
        .first()
    )
    if previous is None:
        return 0
    return unsent_count(batch_ids=[previous])


def _last_sent_at(run: CampaignRun) -> dt.datetime:
    """When the run's last message went out; now for a run that sent none (all
    failed or opted out). Read once, when the run is done: campaigns.pace reads
    its runs' durations from the runs, not from millions of messages."""
    last = None
    if run.cohort is not None:
        last = Message.objects.filter(
            batch_id=run.cohort.batch_id,
            status__in=(Message.Status.SENT, Message.Status.DELIVERED),
        ).aggregate(last=Max("sent_at"))["last"]
    return last or timezone.now()


def runs_mark_done() -> int:
    """Mark done the running runs with nothing left to do: no message still to send
    and nobody on the flow (a wait, a branch to come). Return how many."""
    done = 0
    running = CampaignRun.objects.filter(status=CampaignRun.Status.RUNNING)
    for run in running.select_related("cohort"):
        cohorts = Cohort.objects.filter(run=run)
        if cohorts_busy(cohorts=cohorts):
            continue
        with transaction.atomic():
            if not CampaignRun.objects.filter(
                pk=run.pk, status=CampaignRun.Status.RUNNING
            ).update(status=CampaignRun.Status.DONE, finished_at=_last_sent_at(run)):
                continue
            # Its messages go out only while it runs: a row handed back now (a
            # retry) must not go later.
            cohorts_end(cohorts=cohorts, reason="run over")
            run_store_counts(run_id=run.pk)  # its final figures
            runs_finished_emit(run_ids=[run.pk])
            done += 1
    return done
