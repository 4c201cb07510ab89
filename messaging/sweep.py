"""The sweeper: what the broker lost, what a dead worker left, retries whose back-off
is over and deferred messages whose window opened are queued again from the
database, the record of what is left to send."""

import datetime as dt
from collections.abc import Iterable

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from .claims import lease
from .models import Message
from .outbox import UNSENT
from .queueing import send_chunk

LOST = "no outcome recorded: the worker was lost while sending"


def id_ranges(ids: Iterable[int], size: int) -> list[tuple[int, int]]:
    """Cut sorted ids into (first, last) ranges holding at most ``size`` ids each."""
    ranges: list[tuple[int, int]] = []
    chunk: list[int] = []
    for message_id in ids:
        chunk.append(message_id)
        if len(chunk) == size:
            ranges.append((chunk[0], chunk[-1]))
            chunk = []
    if chunk:
        ranges.append((chunk[0], chunk[-1]))
    return ranges


def messages_sweep(*, now: dt.datetime | None = None, limit: int = 100_000) -> int:
    """Give back expired claims and queue send tasks for due messages nobody holds.

    Catches what the broker lost, what a dead worker left, retries whose back-off is
    over and deferred messages whose window opened. Messages of stopped batches
    whose worker was lost are cancelled instead. Return the number of send tasks
    queued.
    """
    now = now or timezone.now()
    # Claims are only taken on due messages: the pending index's time range finds
    # them without reading the messages deferred to later.
    expired = Message.objects.filter(
        Q(not_before__isnull=True) | Q(not_before__lte=now),
        status__in=UNSENT,
        claim_token__isnull=False,
        lease_until__lt=now,
    )
    expired.filter(batch__stopped_at__isnull=False).update(
        status=Message.Status.CANCELLED, error=LOST, claim_token=None, lease_until=None
    )
    expired.filter(attempts__gte=settings.MESSAGING_MAX_ATTEMPTS).update(
        status=Message.Status.FAILED, error=LOST, claim_token=None, lease_until=None
    )
    expired.update(
        status=Message.Status.QUEUED,
        reported_status="",
        error=f"{LOST}; retried",
        claim_token=None,
        lease_until=None,
    )
    due = (
        Message.objects.due(now)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .order_by("batch_id", "id")
        .values_list("batch_id", "id")[:limit]
    )
    by_batch: dict[int, list[int]] = {}
    for batch_id, message_id in due:
        by_batch.setdefault(batch_id, []).append(message_id)
    queued = 0
    for batch_id, ids in by_batch.items():
        for first, last in id_ranges(ids, settings.MESSAGING_DISPATCH_CHUNK):
            Message.objects.filter(batch_id=batch_id, id__gte=first, id__lte=last).due(
                now
            ).update(lease_until=now + lease())
            send_chunk(batch_id=batch_id, first=first, last=last)
            queued += 1
    return queued
