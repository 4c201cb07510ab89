"""Where some batches' messages lie along the primary key.

The messages list filtered by a campaign or a run asks for its batches' newest
messages. Found through the (batch, status, id) index, that meant reading all of a
big run's rows and sorting them (a million rows, 1–2 s). Bounded by the batches'
lowest and highest ids instead, the list walks the primary key back from their newest
message. Each bound is one probe of the (batch, status, channel, id) index per batch,
status and channel.
"""

from collections.abc import Sequence

from django.db import connection
from django.db.models import Max, Min, QuerySet

from .models import Channel, Message


def batches_span(
    batch_ids: Sequence[int], channel_id: int | None = None
) -> tuple[int, int] | None:
    """The lowest and highest id of the messages of ``batch_ids`` (on channel
    ``channel_id``, when given); None when they have none."""
    if not batch_ids:
        return None
    messages = Message.objects.filter(batch_id__in=batch_ids)
    if channel_id is not None:
        messages = messages.filter(channel_id=channel_id)
    if connection.vendor != "postgresql":
        found = messages.aggregate(low=Min("id"), high=Max("id"))
        if found["low"] is None:
            return None
        return found["low"], found["high"]
    table = Message._meta.db_table
    # One probe per batch, status and channel: the index orders by id within each
    # channel (the channels table is a handful of rows).
    channels = (
        [channel_id]
        if channel_id is not None
        else list(Channel.objects.values_list("pk", flat=True))
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT min(low.id), max(high.id)
            FROM unnest(%s::bigint[]) AS b(id)
            CROSS JOIN unnest(%s::text[]) AS s(status)
            CROSS JOIN unnest(%s::bigint[]) AS c(id)
            CROSS JOIN LATERAL (
                SELECT id FROM {table}
                WHERE batch_id = b.id AND status = s.status AND channel_id = c.id
                ORDER BY id LIMIT 1
            ) low
            CROSS JOIN LATERAL (
                SELECT id FROM {table}
                WHERE batch_id = b.id AND status = s.status AND channel_id = c.id
                ORDER BY id DESC LIMIT 1
            ) high
            """,
            [list(batch_ids), list(Message.Status.values), channels],
        )
        low, high = cursor.fetchone()
    return None if low is None else (low, high)


def batches_narrow(
    queryset: QuerySet[Message],
    batch_ids: Sequence[int],
    channel_id: int | None = None,
) -> QuerySet[Message]:
    """``queryset``'s messages of ``batch_ids``, bounded by their span (on
    ``channel_id``, when given: the list filters by it itself)."""
    span = batches_span(batch_ids, channel_id)
    if span is None:
        return queryset.none()
    low, high = span
    return queryset.filter(batch_id__in=batch_ids, id__gte=low, id__lte=high)
