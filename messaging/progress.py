"""What is due in batches: for whoever watches them go out (a campaign run that may
have stopped moving).

Read through the (batch, status) index, over the unsent rows only, and only for the
batches asked about: a watcher asks about the few that have not moved for a while,
not every batch every minute.
"""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Min, Q

from .models import Message
from .outbox import UNSENT


@dataclass(frozen=True)
class Due:
    """A batch's messages due, counted up to a cap; and when none is, when the first
    of those waiting for their active hours falls due, if any."""

    count: int
    next_at: dt.datetime | None = None


def batches_due(
    *, batch_ids: Iterable[int], now: dt.datetime, cap: int
) -> dict[int, Due]:
    """For each batch, its messages that should be going out at ``now``, counted up
    to ``cap`` + 1: queued ones (held by a worker or not, waiting for a retry or a
    busy provider or not), and deferred ones whose active hours have opened. For a
    batch with none, the earliest time one of its deferred messages falls due.

    Only active hours make a message wait without being late: a retry or a provider
    asking to be left alone does not.
    """
    deferred = Q(status=Message.Status.DEFERRED)
    due = Q(status=Message.Status.QUEUED) | (
        deferred & (Q(not_before__isnull=True) | Q(not_before__lte=now))
    )
    found: dict[int, Due] = {}
    for batch_id in set(batch_ids):
        unsent = Message.objects.filter(batch_id=batch_id, status__in=UNSENT).order_by()
        count = unsent.filter(due)[: cap + 1].count()
        next_at = None
        if not count:
            next_at = unsent.filter(deferred).aggregate(at=Min("not_before"))["at"]
        found[batch_id] = Due(count, next_at)
    return found
