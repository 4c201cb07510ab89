"""The outbox: batches of messages, and the rows written into them.

Whoever has messages to send opens a batch (its texts, sender and active hours),
writes its messages into it set-wise from rows of its own (one INSERT … SELECT per
step, a million rows at a time), and stops it when they must no longer go out.
Sending (messaging.sending) reads everything else it needs from the batch.
"""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone

from audiences.models import Contact, Suppression
from audiences.suppressing import KEY_COLUMNS

from .models import Batch, Channel, Message, Team
from .windows import ActiveHours, Window, WindowsNeverMeet

UNSENT = (Message.Status.QUEUED, Message.Status.DEFERRED)


def batch_open(
    *,
    name: str,
    templates: dict[str, dict[str, str]],
    sender_name: str = "",
    reply_to: str = "",
    window: Window | None = None,
    tags: dict[str, Any] | None = None,
    reply_team: Team | None = None,
    reply_user: User | None = None,
    send_at_local: dt.datetime | None = None,
    local_zone: str = "",
) -> Batch:
    """A new batch for messages to come. ``templates``: by step id, the body, the
    media URL and a label for operators ("step 1 of Welcome v2"). A reply to its
    messages opens an inbox conversation for ``reply_team`` and ``reply_user``.
    With ``send_at_local``, none goes out before that time's wall-clock reading in
    ``local_zone`` (the window's zone when it has one) in each contact's own zone."""
    return Batch.objects.create(
        name=name[:200],
        templates=templates,
        sender_name=sender_name,
        reply_to=reply_to,
        reply_team=reply_team,
        reply_user=reply_user,
        active_from=window.start if window else None,
        active_until=window.end if window else None,
        timezone=window.timezone if window else local_zone,
        hours_of=window.owner if window else "",
        hours_in_contact_zone=bool(window and window.in_contact_zone),
        send_at_local=send_at_local,
        tags=tags or {},
    )


@dataclass
class Written:
    """What one write added: how many messages, and an id range holding them all
    (rows of other batches written at the same time may lie in it too)."""

    count: int = 0
    low: int | None = None
    high: int | None = None

    def add(self, other: "Written") -> None:
        self.count += other.count
        if other.low is not None:
            self.low = other.low if self.low is None else min(self.low, other.low)
        if other.high is not None:
            self.high = other.high if self.high is None else max(self.high, other.high)


def _adapt(moment: dt.datetime) -> Any:
    # Raw SQL skips the field's conversion; SQLite stores text, so it must match
    # the ORM's format to compare correctly.
    return connection.ops.adapt_datetimefield_value(moment)


def _suppression_join(channel_id: int) -> tuple[str, list[str]]:
    """The LEFT JOIN (a hash join over the list, not a look-up per contact) to the
    suppression list's entries for the address the channel reaches, as ``s``; ""
    for channels that reach none (webhooks)."""
    kind = Channel.objects.get(pk=channel_id).address_kind
    if kind not in KEY_COLUMNS:
        return "", []
    return (
        f"LEFT JOIN {Suppression._meta.db_table} s "
        # A blank key (no email) is never anyone's address.
        f"ON s.address_kind = %s AND s.key = c.{KEY_COLUMNS[kind]} "
        f"AND c.{KEY_COLUMNS[kind]} <> ''",
        [kind],
    )


def _suppressed_error() -> str:
    # "suppressed: Replied STOP", from the list's reasons (constant SQL: no
    # parameters in the SELECT part, whose parameters come before the origins').
    labels = " ".join(
        "WHEN '{}' THEN 'suppressed: {}'".format(
            reason.value, str(reason.label).replace("'", "''")
        )
        for reason in Suppression.Reason
    )
    return f"WHEN s.id IS NOT NULL THEN CASE s.reason {labels} ELSE 'suppressed' END"


def messages_write(
    *,
    batch_id: int,
    origins: QuerySet[Any],
    step: int,
    channel_id: int,
    now: dt.datetime,
    with_context: bool = False,
) -> Written:
    """One message in batch ``batch_id`` for each row of ``origins`` (a values()
    query giving ``id``, ``contact_id`` and, with ``with_context``, ``context``),
    for template ``step`` on ``channel_id``. Contacts who opted out, or whose
    address for the channel is on the suppression list, get a skipped row saying
    why. A row whose origin already has a message for the step gets none.

    The messages are held for the dispatch queued when the caller's transaction
    commits (messaging.queueing); after their lease, the sweeper queues them again
    in case the broker lost that task.
    """
    fields = ("id", "contact_id", "context") if with_context else ("id", "contact_id")
    origin_sql, params = origins.order_by().values(*fields).query.sql_with_params()
    lease_until = now + dt.timedelta(seconds=settings.MESSAGING_LEASE_SECONDS)
    table = Message._meta.db_table
    listed, listed_params = _suppression_join(channel_id)
    # Naming the unique key a repeated write hits spares PostgreSQL a probe of every
    # other unique index for every row.
    insert = f"""
        INSERT INTO {table}
            (batch_id, journey_id, contact_id, step, channel_id, status, attempts,
             body, error, provider_id, created_at, lease_until, context)
        SELECT %s, o.id, o.contact_id, %s, %s,
               CASE WHEN c.opted_out_at IS NULL {"AND s.id IS NULL" if listed else ""}
                    THEN %s ELSE %s END,
               0, '',
               CASE WHEN c.opted_out_at IS NOT NULL THEN 'opted out'
                    {_suppressed_error() if listed else ""}
                    ELSE '' END,
               '', %s, %s, {"o.context" if with_context else "NULL"}
        FROM ({origin_sql}) o
        JOIN {Contact._meta.db_table} c ON c.id = o.contact_id
        {listed}
        WHERE TRUE
        ORDER BY o.id
        ON CONFLICT (journey_id, step) DO NOTHING
    """
    values = [
        batch_id,
        step,
        channel_id,
        Message.Status.QUEUED,
        Message.Status.SKIPPED,
        _adapt(now),
        _adapt(lease_until),
        *params,
        *listed_params,
    ]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The new ids lie between a number drawn from the id sequence before
            # and its last number after: cheaper than RETURNING a million ids.
            cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id'))", [table])
            (before,) = cursor.fetchone()
            cursor.execute(insert, values)
            if not cursor.rowcount:
                return Written()
            inserted = cursor.rowcount
            cursor.execute("SELECT currval(pg_get_serial_sequence(%s, 'id'))", [table])
            (last,) = cursor.fetchone()
            return Written(inserted, before + 1, last)
        cursor.execute(f"{insert} RETURNING id", values)
        ids = [row[0] for row in cursor.fetchall()]
    return Written(len(ids), min(ids, default=None), max(ids, default=None))


def messages_go_out_at(
    *, channel_ids: Iterable[int], window: Window | None, now: dt.datetime
) -> dt.datetime:
    """When messages written now on these channels (in a batch with active hours
    ``window``) go out at the earliest: now, or when the last of their hours to open
    opens. Hours that never meet count as now (those messages fail)."""
    channels = Channel.objects.filter(pk__in=set(channel_ids))
    if window is None:
        channels = channels.filter(active_from__isnull=False)
    hours = ActiveHours(window)
    latest = now
    for channel in channels:
        try:
            opens = hours.opens_at(channel, now)
        except WindowsNeverMeet:
            continue
        if opens is not None and opens > latest:
            latest = opens
    return latest


def batches_stop(*, batches: "QuerySet[Batch]", reason: str) -> int:
    """Stop ``batches``: none of their messages goes out any more. Return how many
    waiting messages were cancelled.

    Messages a worker holds at this moment are left to it: it cancels them itself
    when it sees their batch stopped.
    """
    batches.filter(stopped_at__isnull=True).update(
        stopped_at=timezone.now(), stop_reason=reason[:200]
    )
    return Message.objects.filter(
        batch__in=batches, status__in=UNSENT, claim_token__isnull=True
    ).update(status=Message.Status.CANCELLED, error=reason, lease_until=None)


def batches_restate(
    *,
    batches: "QuerySet[Batch]",
    sender_name: str,
    reply_to: str,
    window: Window | None,
    reply_team: Team | None = None,
    reply_user: User | None = None,
) -> int:
    """Give the batches not stopped a new sender and active hours: their messages
    still to send go out with them. Return how many batches changed."""
    # Without hours the zone stays: it is also that of the batch's send time.
    zone = {"timezone": window.timezone} if window else {}
    return batches.filter(stopped_at__isnull=True).update(
        sender_name=sender_name,
        reply_to=reply_to,
        reply_team=reply_team,
        reply_user=reply_user,
        active_from=window.start if window else None,
        active_until=window.end if window else None,
        hours_of=window.owner if window else "",
        hours_in_contact_zone=bool(window and window.in_contact_zone),
        **zone,
    )


def batches_retag(*, batches: "QuerySet[Batch]", tags: dict[str, Any]) -> int:
    """Add ``tags`` to those of the batches not stopped (a campaign's language
    changed: their messages still to send follow it). Return how many changed."""
    changed = 0
    for batch in batches.filter(stopped_at__isnull=True).only("pk", "tags"):
        merged = {**(batch.tags or {}), **tags}
        if merged != batch.tags:
            changed += Batch.objects.filter(pk=batch.pk).update(tags=merged)
    return changed


def unsent_count(*, batch_ids: Iterable[int], cap: int | None = None) -> int:
    """Messages of the batches still to send (queued, deferred or being sent); with
    ``cap``, counted up to cap + 1 (through the (batch, status) index)."""
    unsent = Message.objects.filter(
        batch_id__in=list(batch_ids), status__in=UNSENT
    ).order_by()
    return unsent[: cap + 1].count() if cap is not None else unsent.count()


def waiting_count(*, batch_ids: Iterable[int], cap: int) -> int:
    """What stopping the batches would cancel: their unsent messages no worker
    holds, counted up to ``cap`` + 1."""
    return (
        Message.objects.filter(
            batch_id__in=list(batch_ids), status__in=UNSENT, claim_token__isnull=True
        )
        .order_by()[: cap + 1]
        .count()
    )


def batches_delete(*, batch_ids: Iterable[int]) -> None:
    """Delete the batches with their messages, set-wise: Django's cascade would load
    every message of a big batch first."""
    ids = list(batch_ids)
    with connection.cursor() as cursor:
        for first in range(0, len(ids), 500):
            chunk = ids[first : first + 500]
            marks = ", ".join(["%s"] * len(chunk))
            cursor.execute(
                f"DELETE FROM {Message._meta.db_table} WHERE batch_id IN ({marks})",
                chunk,
            )
    Batch.objects.filter(pk__in=ids).delete()
