"""Retention: message rows older than MESSAGING_RETENTION_DAYS are deleted in
batches, their counts kept on their batch, so a minute plan's millions of rows a day
do not slow the table or the console down, and the reports still add up."""

import datetime as dt
import logging
from collections import Counter

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .models import Batch, Message

logger = logging.getLogger(__name__)

FINAL = (
    Message.Status.SENT,
    Message.Status.DELIVERED,
    Message.Status.FAILED,
    Message.Status.SKIPPED,
    Message.Status.CANCELLED,
)
PRUNE_BATCH = 5000


def messages_prune(
    *, now: dt.datetime | None = None, batch: int = PRUNE_BATCH, max_batches: int = 200
) -> int:
    """Delete finished messages older than the retention, oldest first, a batch per
    transaction; return how many were deleted."""
    days = settings.MESSAGING_RETENTION_DAYS
    if not days:
        return 0
    cutoff = (now or timezone.now()) - dt.timedelta(days=days)
    deleted = 0
    for _ in range(max_batches):
        with transaction.atomic():
            # Oldest rows have the lowest ids: walking the primary key finds them
            # without an index on created_at.
            rows = list(
                Message.objects.filter(created_at__lt=cutoff, status__in=FINAL)
                .order_by("id")
                .values_list("id", "batch_id", "status")[:batch]
            )
            if not rows:
                break
            counts: dict[int, Counter[str]] = {}
            for _, batch_id, status in rows:
                counts.setdefault(batch_id, Counter())[status] += 1
            # Nothing refers to a message: one DELETE, no cascade to collect.
            Message.objects.filter(pk__in=[row[0] for row in rows]).delete()
            for kept in Batch.objects.select_for_update().filter(pk__in=counts):
                total = Counter(kept.pruned_counts) + counts[kept.pk]
                Batch.objects.filter(pk=kept.pk).update(pruned_counts=dict(total))
            deleted += len(rows)
        if len(rows) < batch:
            break
    if deleted:
        logger.info("pruned %d messages older than %s", deleted, cutoff.date())
    return deleted
