"""Retention (M6): message rows older than MESSAGING_RETENTION_DAYS are deleted in
batches, their counts kept on their run, so a minute plan's millions of rows a day do
not slow the table or the console down, and the reports still add up. Journeys that
ended before then, with no message left, go too."""

import datetime as dt
import logging
from collections import Counter

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from campaigns.models import CampaignRun

from .models import Message

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
                .values_list("id", "run_id", "status")[:batch]
            )
            if not rows:
                break
            counts: dict[int, Counter[str]] = {}
            for _, run_id, status in rows:
                if run_id is not None:
                    counts.setdefault(run_id, Counter())[status] += 1
            # Nothing refers to a message: one DELETE, no cascade to collect.
            Message.objects.filter(pk__in=[row[0] for row in rows]).delete()
            for run in CampaignRun.objects.select_for_update().filter(pk__in=counts):
                kept = Counter(run.pruned_counts) + counts[run.pk]
                CampaignRun.objects.filter(pk=run.pk).update(pruned_counts=dict(kept))
            deleted += len(rows)
        if len(rows) < batch:
            break
    if deleted:
        logger.info("pruned %d messages older than %s", deleted, cutoff.date())
    deleted_journeys = journeys_prune(cutoff=cutoff, batch=batch)
    if deleted_journeys:
        logger.info(
            "pruned %d journeys ended before %s", deleted_journeys, cutoff.date()
        )
    return deleted


def journeys_prune(*, cutoff: dt.datetime, batch: int = PRUNE_BATCH) -> int:
    """Delete journeys that ended before ``cutoff`` and have no message left (a
    message still waiting keeps its journey)."""
    from flows.models import Journey

    deleted = 0
    while True:
        ids = list(
            Journey.objects.exclude(status=Journey.Status.ACTIVE)
            .filter(ended_at__lt=cutoff)
            .filter(messages__isnull=True)
            .order_by("id")
            .values_list("id", flat=True)[:batch]
        )
        if not ids:
            return deleted
        Journey.objects.filter(pk__in=ids).delete()
        deleted += len(ids)
        if len(ids) < batch:
            return deleted
