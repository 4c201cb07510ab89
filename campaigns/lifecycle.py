"""Campaign lifecycle: the allowed moves, their guards, and the only writer of status.

Every write here is a keyword-only function named ``campaign_<verb>``. A refused action
raises CampaignRefused with a message written for the operator; what the campaign's
status refuses is said by campaigns.refusals, which the console asks beforehand.
"""

import datetime as dt
import logging
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from base.audit import audit_record, changes_between, snapshot
from flows.cohorts import cohorts_delete, cohorts_end, cohorts_hold, cohorts_release
from flows.models import Cohort
from messaging.models import Batch, Message
from messaging.outbox import UNSENT, batches_restate, batches_retag

from .counting import run_store_counts
from .models import Campaign, CampaignEvent, CampaignRun, CampaignStatus
from .refusals import (
    campaign_delete_refusal,
    campaign_end_refusal,
    campaign_modify_refusal,
    campaign_resume_refusal,
    campaign_suspend_refusal,
)
from .scheduling import campaign_drop_schedule, campaign_sync_schedule
from .streaming import runs_finished_emit
from .targeting import campaign_target, targeting_pop, targeting_snapshot

logger = logging.getLogger(__name__)

Actor = User | None

EDITABLE_FIELDS = (
    "name",
    "description",
    "flow",
    "group",
    "match",
    "start_at",
    "end_at",
    "schedule",
    "sender_name",
    "reply_to",
    "reply_team",
    "reply_user",
    "active_from",
    "active_until",
    "timezone",
    "hours_in_contact_zone",
    "language",
)


# What its batches carry for sending, from the campaign: their messages still to
# send follow an edit of these.
SENT_AS = (
    "sender_name",
    "reply_to",
    "reply_team",
    "reply_user",
    "active_from",
    "active_until",
    "timezone",
    "hours_in_contact_zone",
)


class CampaignRefused(Exception):
    """An action the campaign's status or data does not allow; the text says why."""


def campaign_transition(
    *,
    campaign: Campaign,
    to: str,
    actor: Actor = None,
    note: str = "",
    only_if: Q | None = None,
) -> Campaign:
    """Move ``campaign`` to status ``to`` if the table allows it, and record the move.

    The update is conditional on the status read, and on ``only_if`` (the fact the
    caller's decision rests on, such as the start time having come), so of two
    concurrent changes only one wins; the loser gets CampaignRefused.
    """
    old = campaign.status
    if not campaign.can_transition_to(to):
        raise CampaignRefused(
            f"Campaign {campaign.name!r} is {campaign.get_status_display()}; "
            f"it cannot become {CampaignStatus(to).label}."
        )
    with transaction.atomic():
        rows = Campaign.objects.filter(pk=campaign.pk, status=old)
        if only_if is not None:
            rows = rows.filter(only_if)
        changed = rows.update(status=to, updated_at=timezone.now())
        if not changed:
            campaign.refresh_from_db(fields=["status"])
            raise CampaignRefused(
                f"Campaign {campaign.name!r} was changed meanwhile and is now "
                f"{campaign.get_status_display()}; nothing was done."
            )
        _record(campaign, old, to, actor, note)
        campaign.status = to
        campaign_sync_schedule(campaign=campaign)
        # The runs' journeys move on only while the campaign is in progress.
        cohorts = Cohort.objects.filter(run__campaign=campaign)
        if to == CampaignStatus.IN_PROGRESS:
            cohorts_release(cohorts=cohorts)
        elif old == CampaignStatus.IN_PROGRESS:
            cohorts_hold(cohorts=cohorts)
    logger.info("campaign %s: %s -> %s (%s)", campaign.pk, old, to, note or "no note")
    return campaign


def _record(
    campaign: Campaign, old: str, new: str, actor: Actor, note: str
) -> CampaignEvent:
    if old != new:
        audit_record(
            action="status",
            target=campaign,
            changes={"status": [old, new]},
            note=note,
            actor=actor,
        )
    return CampaignEvent.objects.create(
        campaign=campaign,
        from_status=old,
        to_status=new,
        actor=actor if actor is not None and actor.pk else None,
        note=note[:255],
    )


def _pin_flow_version(campaign: Campaign) -> None:
    if not campaign.flow.can_run_in_campaign:
        raise CampaignRefused(
            f"Flow {campaign.flow.name!r} is not a published Manual flow."
        )
    version = campaign.flow.current_version
    assert version is not None  # can_run_in_campaign says so
    campaign.flow_version = version


def _snapshot(campaign: Campaign) -> dict[str, Any]:
    return snapshot(campaign, EDITABLE_FIELDS) | targeting_snapshot(campaign)


def campaign_create(*, actor: Actor = None, **fields: Any) -> Campaign:
    """Validate (Campaign.clean), save a pending campaign with its targeting
    (campaigns.targeting.TARGETING) and create its beat schedule."""
    targeting = targeting_pop(fields)
    campaign = Campaign(**fields)
    campaign.full_clean(exclude=["flow_version"])
    _pin_flow_version(campaign)
    with transaction.atomic():
        campaign.save()
        campaign_target(campaign=campaign, **targeting)
        _record(
            campaign, CampaignStatus.PENDING, CampaignStatus.PENDING, actor, "created"
        )
        audit_record(
            action="create",
            target=campaign,
            changes=changes_between({}, _snapshot(campaign)),
            actor=actor,
        )
        campaign_sync_schedule(campaign=campaign)
    return campaign


def campaign_update(
    *, campaign: Campaign, actor: Actor = None, **fields: Any
) -> Campaign:
    """Modify a pending or suspended campaign; a suspended one becomes pending
    again with its new start time."""
    current = Campaign.objects.get(pk=campaign.pk)
    refusal = campaign_modify_refusal(campaign=current)
    if refusal:
        raise CampaignRefused(refusal)
    targeting = targeting_pop(fields)
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise CampaignRefused(
            f"These fields cannot be changed: {', '.join(sorted(unknown))}."
        )
    before = _snapshot(current)
    for name, value in fields.items():
        setattr(campaign, name, value)
    campaign.status = current.status
    campaign.full_clean(exclude=["flow_version"])
    _pin_flow_version(campaign)
    with transaction.atomic():
        saved = Campaign.objects.filter(pk=campaign.pk, status=current.status).update(
            flow_version=campaign.flow_version_id,
            updated_at=timezone.now(),
            **{name: getattr(campaign, name) for name in EDITABLE_FIELDS},
        )
        if not saved:
            raise CampaignRefused(
                f"Campaign {campaign.name!r} changed status meanwhile; "
                "nothing was saved."
            )
        campaign_target(campaign=campaign, **targeting)
        changes = changes_between(before, _snapshot(campaign))
        if changes:
            audit_record(action="change", target=campaign, changes=changes, actor=actor)
        if set(changes) & set(SENT_AS):
            # Messages of its runs still to send go out as the campaign now says.
            batches_restate(
                batches=Batch.objects.filter(cohort__run__campaign=campaign),
                sender_name=campaign.sender_name,
                reply_to=campaign.reply_to,
                window=campaign.window,
                reply_team=campaign.reply_team,
                reply_user=campaign.reply_user,
            )
        if "language" in changes:
            batches_retag(
                batches=Batch.objects.filter(cohort__run__campaign=campaign),
                tags={"language": campaign.language},
            )
        if current.status == CampaignStatus.SUSPENDED:
            campaign_transition(
                campaign=campaign,
                to=CampaignStatus.PENDING,
                actor=actor,
                note=f"resumed, new start {campaign.start_at:%Y-%m-%d %H:%M %Z}",
            )
        else:
            _record(campaign, current.status, current.status, actor, "modified")
            campaign_sync_schedule(campaign=campaign)
    campaign.refresh_from_db()
    return campaign


def campaign_resume(
    *, campaign: Campaign, start_at: dt.datetime, actor: Actor = None
) -> Campaign:
    """Resume a suspended campaign: it waits, pending, for its new start time,
    which must be later than now (and earlier than its end)."""
    current = Campaign.objects.get(pk=campaign.pk)
    refusal = campaign_resume_refusal(campaign=current)
    if refusal:
        raise CampaignRefused(refusal)
    try:
        return campaign_update(campaign=current, actor=actor, start_at=start_at)
    except ValidationError as exc:
        raise CampaignRefused(" ".join(exc.messages)) from None


def campaign_suspend(*, campaign: Campaign, actor: Actor = None) -> Campaign:
    """Pause an in-progress campaign: no further runs until a new start is set."""
    with transaction.atomic():
        _lock(campaign)
        refusal = campaign_suspend_refusal(campaign=campaign, fresh=True)
        if refusal:
            raise CampaignRefused(refusal)
        return campaign_transition(
            campaign=campaign,
            to=CampaignStatus.SUSPENDED,
            actor=actor,
            note="suspended",
        )


def _lock(campaign: Campaign) -> None:
    """Wait for whoever holds the campaign (a tick fanning out) and read its status.

    An operator's action then applies to the campaign as it is, not as it was when
    the page was loaded.
    """
    campaign.status, campaign.schedule = (
        Campaign.objects.select_for_update()
        .values_list("status", "schedule")
        .get(pk=campaign.pk)
    )


def campaign_end(
    *,
    campaign: Campaign,
    actor: Actor = None,
    note: str = "finished on demand",
    only_if: Q | None = None,
    on_demand: bool = True,
) -> Campaign:
    """End a campaign for good: its runs are cancelled and nothing more is sent
    for it. Cannot be undone."""
    with transaction.atomic():
        _lock(campaign)
        refusal = campaign_end_refusal(
            campaign=campaign, fresh=True, on_demand=on_demand
        )
        if refusal:
            raise CampaignRefused(refusal)
        campaign_transition(
            campaign=campaign,
            to=CampaignStatus.ENDED,
            actor=actor,
            note=note,
            only_if=only_if,
        )
        runs = CampaignRun.objects.filter(campaign=campaign)
        cut = list(
            runs.filter(status=CampaignRun.Status.RUNNING).values_list("pk", flat=True)
        )
        runs.filter(pk__in=cut).update(status=CampaignRun.Status.CANCELLED)
        # Their journeys end and their batches stop, so workers sending for these
        # runs stop too.
        stopped, cancelled = cohorts_end(
            cohorts=Cohort.objects.filter(run__campaign=campaign),
            reason="campaign ended",
        )
        # A run that had nothing left to cut short (nothing cancelled, nothing
        # still to send — a worker's claimed rows are unsent too, and a worker may
        # hand a row back meanwhile) is shown as done, not cancelled.
        runs.filter(status=CampaignRun.Status.CANCELLED).exclude(
            Q(cohort__batch__messages__status=Message.Status.CANCELLED)
            | Q(cohort__batch__messages__status__in=UNSENT)
            | Q(cohort__journeys__status="cancelled")
        ).update(status=CampaignRun.Status.DONE)
        for run_id in cut:
            run_store_counts(run_id=run_id)  # their final figures, for reports
        runs_finished_emit(run_ids=cut)
    if cancelled or stopped:
        logger.info(
            "campaign %s ended: %d unsent messages and %d open journeys cancelled",
            campaign.pk,
            cancelled,
            stopped,
        )
    return campaign


def campaign_delete(*, campaign: Campaign, actor: Actor = None) -> None:
    """Delete a campaign that is not in progress, with its schedule."""
    current = Campaign.objects.get(pk=campaign.pk)
    refusal = campaign_delete_refusal(campaign=current)
    if refusal:
        raise CampaignRefused(refusal)
    with transaction.atomic():
        # Read before the runs go with their campaign; the delete below is the check.
        cohort_ids = list(
            CampaignRun.objects.filter(
                campaign=current, cohort__isnull=False
            ).values_list("cohort_id", flat=True)
        )
        deleted, _ = Campaign.objects.filter(
            pk=campaign.pk, status=current.status
        ).delete()
        if not deleted:
            raise CampaignRefused(
                f"Campaign {current.name!r} changed status meanwhile; "
                "it was not deleted."
            )
        cohorts_delete(cohort_ids=cohort_ids)
        campaign_drop_schedule(campaign=current)
        audit_record(
            action="delete",
            target=current,
            changes=changes_between(snapshot(current, EDITABLE_FIELDS), {}),
            actor=actor,
        )
    logger.info("campaign %s deleted by %s", campaign.pk, actor)
