"""Cohorts: journeys started together on a flow version, and their messages' batch.

A campaign run opens a cohort for its group; a flow version's event and audience
entries share one cohort per version. The cohort's batch (messaging) carries the
version's texts and the sender's name, reply-to and active hours, so sending needs
nothing of flows. Ending a cohort ends its journeys and stops its batch.
"""

import datetime as dt
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import QuerySet

from messaging.models import Batch, Team
from messaging.outbox import batch_open, batches_delete, batches_stop, unsent_count
from messaging.windows import Window

from .engine import journeys_cancel
from .graph import SEND
from .models import Cohort, FlowVersion, Journey


def version_templates(version: FlowVersion) -> dict[str, dict[str, str]]:
    """The texts of the version's send steps, by step id, as its batch keeps them."""
    return {
        str(step["id"]): {
            "body": step.get("body") or "",
            "media_url": step.get("media_url") or "",
            "label": f"step {step['position']} of {version}",
        }
        for step in version.steps
        if step["kind"] == SEND
    }


def cohort_open(
    *,
    version: FlowVersion,
    name: str,
    sender_name: str = "",
    reply_to: str = "",
    window: Window | None = None,
    tags: dict[str, Any] | None = None,
    reply_team: Team | None = None,
    reply_user: User | None = None,
    send_at_local: dt.datetime | None = None,
    local_zone: str = "",
) -> Cohort:
    """A new cohort on ``version`` (a campaign run's), with its batch: sent as
    ``sender_name`` with ``reply_to``, inside ``window`` besides its channels', not
    before ``send_at_local`` read in each contact's zone (messaging.outbox
    batch_open); replies no flow takes go to ``reply_team``'s and ``reply_user``'s
    inbox."""
    batch = batch_open(
        name=name,
        templates=version_templates(version),
        sender_name=sender_name,
        reply_to=reply_to,
        window=window,
        tags=tags,
        reply_team=reply_team,
        reply_user=reply_user,
        send_at_local=send_at_local,
        local_zone=local_zone,
    )
    return Cohort.objects.create(flow_version=version, batch=batch)


def entries_cohort(version: FlowVersion) -> Cohort:
    """The cohort of the version's event and audience entries, made on first use."""
    found = Cohort.objects.filter(flow_version=version, for_entries=True).first()
    if found is not None:
        return found
    with transaction.atomic():
        # Locked: two first entries at once must not both make one.
        FlowVersion.objects.select_for_update().filter(pk=version.pk).first()
        found = Cohort.objects.filter(flow_version=version, for_entries=True).first()
        if found is not None:
            return found
        batch = batch_open(
            name=f"{version}: event and audience entries",
            templates=version_templates(version),
            tags={"flow": version.flow_id},
        )
        return Cohort.objects.create(
            flow_version=version, batch=batch, for_entries=True
        )


def cohorts_hold(*, cohorts: QuerySet[Cohort]) -> int:
    """Keep the cohorts' journeys where they are (a suspended campaign)."""
    return cohorts.filter(held=False).update(held=True)


def cohorts_release(*, cohorts: QuerySet[Cohort]) -> int:
    """Let the cohorts' journeys move on again."""
    return cohorts.filter(held=True).update(held=False)


def cohorts_end(*, cohorts: QuerySet[Cohort], reason: str) -> tuple[int, int]:
    """End the cohorts: their open journeys are cancelled and their batches
    stopped. Return (journeys cancelled, waiting messages cancelled)."""
    # Journeys first: this waits for an advance that holds them, so the messages
    # it inserted are committed, and cancelled with the batch below.
    stopped = journeys_cancel(
        journeys=Journey.objects.filter(cohort__in=cohorts), reason=reason
    )
    cancelled = batches_stop(
        batches=Batch.objects.filter(cohort__in=cohorts), reason=reason
    )
    return stopped, cancelled


def cohorts_busy(*, cohorts: QuerySet[Cohort]) -> bool:
    """Whether anything of the cohorts is still to happen: a message to send, or a
    journey on the flow (a wait, a branch to come)."""
    batch_ids = list(cohorts.values_list("batch_id", flat=True))
    return (
        Journey.objects.filter(
            cohort__in=cohorts, status=Journey.Status.ACTIVE
        ).exists()
        or unsent_count(batch_ids=batch_ids, cap=0) > 0
    )


def cohorts_delete(*, cohort_ids: list[int]) -> None:
    """Delete the cohorts with their journeys and their batches' messages,
    set-wise: through the ORM's cascade every journey and message of a big cohort
    would be loaded first."""
    batch_ids = list(
        Cohort.objects.filter(pk__in=cohort_ids).values_list("batch_id", flat=True)
    )
    # Nothing refers to a journey: one DELETE, no cascade to collect.
    Journey.objects.filter(cohort_id__in=cohort_ids).delete()
    Cohort.objects.filter(pk__in=cohort_ids).delete()
    batches_delete(batch_ids=batch_ids)
