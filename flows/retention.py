"""Retention of journeys: those that ended before the messages' retention period
(MESSAGING_RETENTION_DAYS) go once none of their messages is left, so a minute plan's
millions of journeys a day do not slow the table or the console down."""

import datetime as dt
import logging

from django.conf import settings
from django.db.models import Exists, OuterRef
from django.utils import timezone

from messaging.models import Message

from .models import Journey

logger = logging.getLogger(__name__)

PRUNE_BATCH = 5000


def journeys_prune(
    *, now: dt.datetime | None = None, batch: int = PRUNE_BATCH, max_batches: int = 200
) -> int:
    """Delete journeys that ended before the retention's cutoff and have no message
    left (a message still waiting keeps its journey). Return how many."""
    days = settings.MESSAGING_RETENTION_DAYS
    if not days:
        return 0
    cutoff = (now or timezone.now()) - dt.timedelta(days=days)
    # Messages name their journey as their origin (the engine writes them so).
    has_messages = Exists(Message.objects.filter(origin=OuterRef("pk")))
    deleted = 0
    for _ in range(max_batches):
        ids = list(
            Journey.objects.exclude(status=Journey.Status.ACTIVE)
            .filter(ended_at__lt=cutoff)
            .filter(~has_messages)
            .order_by("id")
            .values_list("id", flat=True)[:batch]
        )
        if not ids:
            break
        # Nothing refers to a journey: one DELETE, no cascade to collect.
        Journey.objects.filter(pk__in=ids).delete()
        deleted += len(ids)
        if len(ids) < batch:
            break
    if deleted:
        logger.info("pruned %d journeys ended before %s", deleted, cutoff.date())
    return deleted
