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
from django.utils import timezone

from audiences.models import Contact

from .channels import FlowNotRunnable
from .cohorts import entries_cohort
from .engine import journeys_enter
from .models import Flow, FlowVersion

logger = logging.getLogger(__name__)


@dataclass
class EventOutcome:
    flows: list[str]
    entered: int
    refused: dict[str, str] = field(default_factory=dict)


def event_record(
    *,
    contact: Contact,
    event: str,
    event_id: str,
    properties: dict[str, Any] | None = None,
) -> EventOutcome:
    """Put ``contact`` on every published flow waiting for ``event``; an event id
    seen before by a flow puts nobody on it again. The event's properties go with
    the journey, for the flow's templates."""
    flows = Flow.objects.filter(
        status=Flow.Status.PUBLISHED,
        trigger=Flow.Trigger.EVENT,
        event_name=event,
        current_version__isnull=False,
    ).select_related("current_version")
    entered = 0
    names = []
    refused: dict[str, str] = {}
    for flow in flows:
        names.append(flow.name)
        try:
            entered += journeys_enter(
                cohort=entries_cohort(_version(flow)),
                contacts=Contact.objects.filter(pk=contact.pk),
                entry_key=f"event:{event_id}",
                context=properties,
            )
        except FlowNotRunnable as exc:
            # One broken flow does not keep the contact off the others.
            logger.error("event %s: flow %s cannot run: %s", event_id, flow.pk, exc)
            refused[flow.name] = str(exc)
    return EventOutcome(flows=names, entered=entered, refused=refused)


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
