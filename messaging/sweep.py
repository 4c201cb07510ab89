"""The sweeper: what the broker lost, what a dead worker left, retries whose back-off
is over and deferred messages whose window opened are queued again from the
database, the record of what is left to send.

A queued message's lease stands for its send task in the broker: the sweeper leaves
leased messages alone, unless the broker lost its queue (messaging.broker_loss)."""

import datetime as dt
from collections.abc import Iterable

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from .broker_loss import broker_epoch_changed, broker_epoch_mark
from .claims import lease
from .models import Message
from .outbox import UNSENT
from .queueing import send_chunk
from .recording import messages_fail

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
    whose worker was lost are cancelled instead. Messages whose lease still holds
    for a task in the broker are left alone, unless the broker lost its queue since
    the last sweep: then every due message nobody holds is queued again. Return the
    number of send tasks queued.
    """
    now = now or timezone.now()
    lost_epoch = broker_epoch_changed()
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
    messages_fail(
        expired.filter(attempts__gte=settings.MESSAGING_MAX_ATTEMPTS),
        LOST,
        claim_token=None,
        lease_until=None,
    )
    expired.update(
        status=Message.Status.QUEUED,
        reported_status="",
        error=f"{LOST}; retried",
        claim_token=None,
        lease_until=None,
    )
    due = Message.objects.due(now)
    if lost_epoch is None:
        due = due.filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
    queued = 0
    after: tuple[int, int] | None = None
    while True:
        page = due
        if after is not None:
            batch_id, message_id = after
            page = due.filter(
                Q(batch_id__gt=batch_id) | Q(batch_id=batch_id, id__gt=message_id)
            )
        rows = list(
            page.order_by("batch_id", "id").values_list("batch_id", "id")[:limit]
        )
        queued += _queue(rows, now)
        # A broker that lost its queue gets everything back before it is marked;
        # otherwise what is left over waits for the next sweep.
        if lost_epoch is None or len(rows) < limit:
            break
        after = rows[-1]
    if lost_epoch is not None:
        broker_epoch_mark(lost_epoch)
    return queued


def _queue(rows: list[tuple[int, int]], now: dt.datetime) -> int:
    """Lease the messages of ``rows`` ((batch id, id), in order) again and queue send
    tasks for them. Return the number of tasks."""
    by_batch: dict[int, list[int]] = {}
    for batch_id, message_id in rows:
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
