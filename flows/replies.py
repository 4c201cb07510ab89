"""Replies that flows wait for: a contact's reply moves on each of its journeys that
waits for one on that channel, the way its test says, keeping the reply in custom
data when the step says so. The messages the flow sends next are written at once;
outside active hours they wait for the hours to open like any message, in order.

Messaging stores every reply and asks here first (messaging.inbound.reply_takers,
filled in FlowsConfig.ready()); a reply no journey takes goes to the inbox.
"""

import datetime as dt
import logging

from django.db import transaction
from django.utils import timezone

from audiences.contact_data import ValueRefused, contact_data_save
from messaging.models import InboundMessage

from .engine import Moved, advance_selection
from .graph import REPLY, by_position
from .models import Cohort, FlowVersion, Journey
from .reply_tests import reply_kept_value, reply_passes

logger = logging.getLogger(__name__)


def journeys_take_reply(
    inbound: InboundMessage, now: dt.datetime | None = None
) -> bool:
    """Move on the journeys of the reply's contact waiting for a reply on its
    channel, the newest of each flow (two runs of a daily campaign, or two events,
    may each wait: the reply answers the latest question, once; the older journey
    keeps waiting until its time is up). Return whether any took it (then the reply
    is answered by its flow)."""
    if inbound.contact_id is None:
        return False
    now = now or timezone.now()
    waiting = Journey.objects.filter(
        contact_id=inbound.contact_id,
        status=Journey.Status.ACTIVE,
        awaiting_reply=True,
        # A reply after the time is up is no answer, whether or not the advance
        # has sent the journey the no-reply way yet.
        due_at__gt=now,
    )
    taken = False
    flows_answered: set[int] = set()
    # Newest first. One journey at a time, each in its own transaction: a reply
    # never holds one journey while it waits for another, so it cannot deadlock
    # with whoever locks several (Finish cancelling a campaign's journeys).
    for pk, flow_id in list(waiting.order_by("-pk").values_list("pk", "flow_id")):
        if flow_id in flows_answered:
            continue
        with transaction.atomic():
            # Waits for whoever holds the journey (an earlier reply of the same
            # contact, an advance sending it the no-reply way) and reads what they
            # left: passing a locked journey by would miss the wait an earlier
            # reply opened. journeys_advance skips the rows it finds locked, so
            # the two never wait on each other.
            journey = waiting.select_for_update(of=("self",)).filter(pk=pk).first()
            if journey is None:
                continue
            steps = by_position(
                FlowVersion.objects.get(pk=journey.flow_version_id).steps
            )
            step = steps.get(journey.step)
            if step is None or step["kind"] != REPLY:
                continue
            if step.get("channel_id") not in (None, inbound.channel_id):
                continue
            _move_on(journey, step, inbound, now)
            flows_answered.add(flow_id)
            taken = True
    return taken


def _move_on(
    journey: Journey, step: dict, inbound: InboundMessage, now: dt.datetime
) -> None:
    reply = step.get("reply") or {}
    passes = reply_passes(reply, inbound.body)
    target = step["yes"] if passes else step["no"]
    name = reply.get("save_as") or ""
    kept = reply_kept_value(reply, inbound.body)
    # A reply without text (a photo) keeps nothing, as a blank cell of an import
    # does: no value overwritten, no new variable typed as text by an empty value.
    if name and kept:
        try:
            contact_data_save(contact_id=journey.contact_id, name=name, text=kept)
        except ValueRefused as exc:
            # The reply still moves the contact on; the variable keeps its value.
            logger.warning(
                "journey %s: reply not kept in %s: %s", journey.pk, name, exc
            )
    Journey.objects.filter(pk=journey.pk).update(
        step=target,
        due_at=now,
        awaiting_reply=False,
        hops=0,
        context={**(journey.context or {}), "REPLY": inbound.body[:1000]},
    )
    cohort = Cohort.objects.select_related("batch", "flow_version").get(
        pk=journey.cohort_id
    )
    if cohort.held:
        # A suspended campaign's contact moves on when the campaign resumes.
        return
    moved = Moved(cohort)
    advance_selection(Journey.objects.filter(pk=journey.pk), now, moved)
    moved.dispatch()
