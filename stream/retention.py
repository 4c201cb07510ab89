"""Retention: events older than STREAM_RETENTION_DAYS whose deliveries are all over
(delivered or given up) are deleted, with their deliveries and attempts, in
batches, oldest first."""

import datetime as dt
import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .models import Attempt, Delivery, Event

logger = logging.getLogger(__name__)

PRUNE_BATCH = 2000


def events_prune(
    *, now: dt.datetime | None = None, batch: int = PRUNE_BATCH, max_batches: int = 200
) -> int:
    """Delete the events past retention that wait for no delivery, with their
    deliveries and attempts; return how many events were deleted."""
    days = settings.STREAM_RETENTION_DAYS
    if not days:
        return 0
    cutoff = (now or timezone.now()) - dt.timedelta(days=days)
    deleted = 0
    after = 0
    for _ in range(max_batches):
        with transaction.atomic():
            # Oldest rows have the lowest ids: walking the primary key finds them
            # without an index on created_at.
            old = list(
                Event.objects.filter(pk__gt=after, created_at__lt=cutoff)
                .order_by("id")
                .values_list("id", flat=True)[:batch]
            )
            if not old:
                break
            after = old[-1]
            waiting = set(
                Delivery.objects.filter(
                    event_id__in=old, status=Delivery.Status.PENDING
                ).values_list("event_id", flat=True)
            )
            ids = [pk for pk in old if pk not in waiting]
            # Bottom up: the attempts in one DELETE, then what they hung on, read
            # back by id alone for the cascade.
            Attempt.objects.filter(delivery__event_id__in=ids).delete()
            Delivery.objects.filter(event_id__in=ids).only("id").delete()
            Event.objects.filter(pk__in=ids).only("id").delete()
            deleted += len(ids)
        if len(old) < batch:
            break
    if deleted:
        logger.info("pruned %d stream events older than %s", deleted, cutoff.date())
    return deleted
