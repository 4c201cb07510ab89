"""Where some batches' messages lie along the primary key.

The messages list filtered by a campaign or a run asks for its batches' newest
messages. Found through the (batch, status, id) index, that meant reading all of a
big run's rows and sorting them (a million rows, 1–2 s). Bounded by the batches'
lowest and highest ids instead, the list walks the primary key back from their newest
message. Each bound is one probe of the index per batch and status.
"""

from collections.abc import Sequence

from django.db import connection
from django.db.models import Max, Min, QuerySet

from .models import Message


def batches_span(batch_ids: Sequence[int]) -> tuple[int, int] | None:
    """The lowest and highest id of the messages of ``batch_ids``; None when they
    have none."""
    if not batch_ids:
        return None
    if connection.vendor != "postgresql":
        found = Message.objects.filter(batch_id__in=batch_ids).aggregate(
            low=Min("id"), high=Max("id")
        )
        if found["low"] is None:
            return None
        return found["low"], found["high"]
    table = Message._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT min(low.id), max(high.id)
            FROM unnest(%s::bigint[]) AS b(id)
            CROSS JOIN unnest(%s::text[]) AS s(status)
            CROSS JOIN LATERAL (
                SELECT id FROM {table}
                WHERE batch_id = b.id AND status = s.status ORDER BY id LIMIT 1
            ) low
            CROSS JOIN LATERAL (
                SELECT id FROM {table}
                WHERE batch_id = b.id AND status = s.status ORDER BY id DESC LIMIT 1
            ) high
            """,
            [list(batch_ids), list(Message.Status.values)],
        )
        low, high = cursor.fetchone()
    return None if low is None else (low, high)


def batches_narrow(
    queryset: QuerySet[Message], batch_ids: Sequence[int]
) -> QuerySet[Message]:
    """``queryset``'s messages of ``batch_ids``, bounded by their span."""
    span = batches_span(batch_ids)
    if span is None:
        return queryset.none()
    low, high = span
    return queryset.filter(batch_id__in=batch_ids, id__gte=low, id__lte=high)
