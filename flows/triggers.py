"""Triggers other than Manual (README, "Build flows"): behavioural events and
audience schedules.

Both put contacts on a published flow's current version, in its entries cohort, at
most once per entry key: an event id, or an audience period.
"""

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from audiences.events import event_store
from audiences.models import Contact

from .channels import FlowNotRunnable
from .cohorts import entries_cohort
from .engine import journeys_enter
from .event_match import event_verdict
from .models import Flow, FlowVersion

logger = logging.getLogger(__name__)


@dataclass
class EventOutcome:
    flows: list[str]  # the published flows waiting for the event
    entered: int  # journeys started
    stored: bool = True  # False: the event id was stored before, the event once
    entered_flows: list[str] = field(default_factory=list)
    passed_over: dict[str, str] = field(default_factory=dict)  # flow: why not
    refused: dict[str, str] = field(default_factory=dict)  # flow: why it cannot run


def event_record(
    *,
    contact: Contact,
    event: str,
    event_id: str,
    properties: dict[str, Any] | None = None,
    occurred_at: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> EventOutcome:
    """Store the event (once per id: audiences.events) and put ``contact`` on every
    published flow waiting for ``event`` whose conditions and occurrence it meets
    (flows.event_match). An event id seen before by a flow puts nobody on it again.
    The stored event's properties go with the journey, for the flow's templates.

    Raises audiences.events.EventRefused when the event cannot be stored.
    """
    now = now or timezone.now()
    flows = Flow.objects.filter(
        status=Flow.Status.PUBLISHED,
        trigger=Flow.Trigger.EVENT,
        event_name=event,
        current_version__isnull=False,
    ).select_related("current_version")
    with transaction.atomic():
        # Holds the contact's row: its events are stored and counted in turn.
        stored, created = event_store(
            contact_id=contact.pk,
            name=event,
            event_id=event_id,
            properties=properties,
            occurred_at=occurred_at,
            now=now,
        )
        outcome = EventOutcome(flows=[], entered=0, stored=created)
        for flow in flows.prefetch_related("event_conditions"):
            outcome.flows.append(flow.name)
            verdict = event_verdict(
                flow=flow, event=stored, conditions=list(flow.event_conditions.all())
            )
            if not verdict.enters:
                outcome.passed_over[flow.name] = verdict.reason
                continue
            try:
                entered = journeys_enter(
                    cohort=entries_cohort(_version(flow)),
                    contacts=Contact.objects.filter(pk=contact.pk),
                    entry_key=f"event:{event_id}",
                    context=stored.properties,
                    now=now,
                )
            except FlowNotRunnable as exc:
                # One broken flow does not keep the contact off the others.
                logger.error("event %s: flow %s cannot run: %s", event_id, flow.pk, exc)
                outcome.refused[flow.name] = str(exc)
                continue
            if entered:
                outcome.entered += entered
                outcome.entered_flows.append(flow.name)
            else:
                outcome.passed_over[flow.name] = (
                    f"already entered for the event id {event_id}"
                )
    return outcome


def _version(flow: Flow) -> FlowVersion:
    version = flow.current_version
    assert version is not None  # the published flows asked for have one
    return version


def audience_period(every: str, now: dt.datetime) -> dt.datetime:
    """The start of the period ``now`` falls in (days in the configured time zone)."""
    if every == "minute":
        return now.replace(second=0, microsecond=0)
    if every == "hourly":
        return now.replace(minute=0, second=0, microsecond=0)
    local = now.astimezone(ZoneInfo(settings.TIME_ZONE))
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def audiences_enter_due(*, now: dt.datetime | None = None) -> int:
    """Put each published audience flow's group on it once per period. Return how
    many contacts entered."""
    now = now or timezone.now()
    entered = 0
    flows = Flow.objects.filter(
        status=Flow.Status.PUBLISHED,
        trigger=Flow.Trigger.AUDIENCE,
        current_version__isnull=False,
        audience_group__isnull=False,
    ).select_related("current_version", "audience_group")
    for flow in flows:
        period = audience_period(flow.audience_every, now)
        if flow.audience_last_entry is not None and flow.audience_last_entry >= period:
            continue
        assert flow.audience_group is not None
        try:
            count = journeys_enter(
                cohort=entries_cohort(_version(flow)),
                contacts=flow.audience_group.members(),
                entry_key=f"audience:{period.isoformat()}",
                now=now,
            )
        except FlowNotRunnable as exc:
            logger.error("audience flow %s cannot run: %s", flow.pk, exc)
            continue
        Flow.objects.filter(pk=flow.pk).update(audience_last_entry=period)
        logger.info(
            "audience flow %s: %d contacts entered for %s", flow.pk, count, period
        )
        entered += count
    return entered
