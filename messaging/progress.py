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
    """A batch's messages whose time has come, counted up to a cap; and when none
    has, when the first of those still waiting falls due (active hours, a retry's
    back-off), if any."""

    count: int
    next_at: dt.datetime | None = None


def batches_due(
    *, batch_ids: Iterable[int], now: dt.datetime, cap: int
) -> dict[int, Due]:
    """For each batch, its unsent messages (queued or deferred, held by a worker or
    not) whose time has come at ``now``, counted up to ``cap`` + 1; for a batch with
    none, the earliest time one of its unsent messages falls due."""
    found: dict[int, Due] = {}
    for batch_id in set(batch_ids):
        unsent = Message.objects.filter(batch_id=batch_id, status__in=UNSENT).order_by()
        count = unsent.filter(Q(not_before__isnull=True) | Q(not_before__lte=now))[
            : cap + 1
        ].count()
        next_at = None
        if not count:
            next_at = unsent.aggregate(next_at=Min("not_before"))["next_at"]
        found[batch_id] = Due(count, next_at)
    return found
