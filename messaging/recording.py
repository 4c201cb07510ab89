"""Recording what became of a message a worker sent: sent, failed, retried, or
cancelled because its batch was stopped meanwhile.

Every record is conditional on the worker's claim: a row whose claim was taken back
(the sweeper, a stop) is not the worker's to record any more.
"""

import datetime as dt
import json
import logging
import time
import uuid
from collections.abc import Iterator
from typing import Any, Literal, Protocol, overload

from django.db import connection, transaction
from django.db.models import Case, Value, When

from stream.emitting import listened

from .models import Message, MessageQuerySet
from .streaming import STATUS_EVENTS, messages_emit, messages_status_emit

logger = logging.getLogger(__name__)

# Sends are recorded in batches, at most this many or this old: a worker killed
# between a send and its record leaves at most this many messages to be sent again
# (with the same idempotency key) when their lease expires.
RECORD_EVERY = 100
RECORD_SECONDS = 0.5


class Tally(Protocol):
    sent: int


class SentBatch:
    """Sent messages waiting to be recorded, in one UPDATE per batch on PostgreSQL."""

    def __init__(self, token: uuid.UUID, report: Tally) -> None:
        self.token, self.report = token, report
        self.batched = connection.vendor == "postgresql"
        # (id, text sent, provider's id, when: seconds since the epoch)
        self.rows: list[tuple[int, str, str, float]] = []
        self.messages: dict[int, Message] = {}
        self.oldest = 0.0

    def add(self, message: Message, provider_id: str) -> None:
        if not self.rows:
            self.oldest = time.monotonic()
        self.rows.append((message.pk, message.body, provider_id[:200], time.time()))
        self.messages[message.pk] = message
        if not self.batched:
            self.flush()

    def flush_if_due(self) -> None:
        if len(self.rows) >= RECORD_EVERY or (
            self.rows and time.monotonic() - self.oldest >= RECORD_SECONDS
        ):
            self.flush()

    def flush(self) -> None:
        if not self.rows:
            return
        rows, self.rows = self.rows, []
        messages, self.messages = self.messages, {}
        if listened(STATUS_EVENTS.values()):
            # With their events (message.sent, and delivered or failed when a
            # receipt came first), in one transaction.
            with transaction.atomic():
                recorded = self._record(rows)
                messages_emit(_sent_outcomes(recorded, rows, messages))
            count = len(recorded)
        elif self.batched:
            count = _record_sent_batch(rows, self.token, returning=False)
        else:
            count = sum(_record_sent_row(row, self.token) for row in rows)
        if count < len(rows):
            logger.error(
                "%d messages were sent but their claim was lost", len(rows) - count
            )
        self.report.sent += count

    def _record(self, rows: list[tuple[int, str, str, float]]) -> dict[int, str]:
        """Record ``rows`` sent; the status each recorded row took, by id ("" when
        the update does not say: SQLite)."""
        if self.batched:
            return _record_sent_batch(rows, self.token, returning=True)
        return {row[0]: "" for row in rows if _record_sent_row(row, self.token)}


def _sent_outcomes(
    recorded: dict[int, str],
    rows: list[tuple[int, str, str, float]],
    messages: dict[int, Message],
) -> Iterator[tuple[Message, str, str, str, dt.datetime | None]]:
    """What the recorded sends came to, for their events; statuses the update did
    not return (SQLite) are read now."""
    unknown = [pk for pk, status in recorded.items() if not status]
    if unknown:
        recorded.update(
            Message.objects.filter(pk__in=unknown).values_list("pk", "status")
        )
    for pk, _, provider_id, sent_seconds in rows:
        if pk in recorded:
            sent_at = dt.datetime.fromtimestamp(sent_seconds, dt.UTC)
            yield messages[pk], recorded[pk], "", provider_id, sent_at


# A receipt that came before the send was recorded (fast providers) is applied now.
_SENT_STATUS = """CASE m.reported_status WHEN 'delivered' THEN 'delivered'
    WHEN 'failed' THEN 'failed' ELSE 'sent' END"""


@overload
def _record_sent_batch(
    rows: list[tuple[int, str, str, float]],
    token: uuid.UUID,
    *,
    returning: Literal[True],
) -> dict[int, str]: ...


@overload
def _record_sent_batch(
    rows: list[tuple[int, str, str, float]],
    token: uuid.UUID,
    *,
    returning: Literal[False],
) -> int: ...


def _record_sent_batch(
    rows: list[tuple[int, str, str, float]], token: uuid.UUID, *, returning: bool
) -> dict[int, str] | int:
    """Record the rows sent; with ``returning`` the status each recorded row took
    (sent, or delivered or failed when its receipt came first), by id, else how
    many were recorded."""
    # The rows go as one JSON text: quoting arrays of Python values for the query
    # cost more than the update itself.
    ids = [row[0] for row in rows]
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE {Message._meta.db_table} AS m
            SET status = {_SENT_STATUS}, body = v.body, provider_id = v.provider_id,
                sent_at = to_timestamp(v.sent_at), claim_token = NULL,
                lease_until = NULL, error = ''
            FROM json_to_recordset(%s::json)
                AS v (id bigint, body text, provider_id text, sent_at float8)
            WHERE m.id = v.id AND m.id BETWEEN %s AND %s AND m.claim_token = %s
            """
            + ("RETURNING m.id, m.status" if returning else ""),
            # The claim token alone says the row is still ours: everything that
            # takes a claim back or ends a message clears it. The id range keeps
            # the planner on the primary key.
            [
                json.dumps(
                    [
                        {"id": pk, "body": body, "provider_id": provider, "sent_at": t}
                        for pk, body, provider, t in rows
                    ]
                ),
                min(ids),
                max(ids),
                token,
            ],
        )
        return dict(cursor.fetchall()) if returning else cursor.rowcount


def _record_sent_row(row: tuple[int, str, str, float], token: uuid.UUID) -> int:
    pk, body, provider_id, sent_seconds = row
    sent_at = dt.datetime.fromtimestamp(sent_seconds, dt.UTC)
    return Message.objects.filter(pk=pk, claim_token=token).update(
        status=Case(
            When(reported_status=Message.Status.DELIVERED, then=Value("delivered")),
            When(reported_status=Message.Status.FAILED, then=Value("failed")),
            default=Value("sent"),
        ),
        body=body,
        provider_id=provider_id,
        sent_at=sent_at,
        claim_token=None,
        lease_until=None,
        error="",
    )


def record_failure(
    mine: MessageQuerySet,
    message: Message,
    reason: str,
    *,
    final: bool,
    stopped: str | None,
    retry_at: dt.datetime,
) -> tuple[str, int]:
    """Record a failed attempt on ``mine`` (the message, while still claimed): failed
    when ``final``, cancelled when its batch was ``stopped`` (the reason), else
    queued again for ``retry_at``. Return the outcome (a DispatchReport field name)
    and how many rows took it."""
    cleared: dict[str, Any] = {"claim_token": None, "lease_until": None}
    if final:
        with transaction.atomic():
            failed = mine.update(
                status=Message.Status.FAILED,
                body=message.body,
                error=reason[:2000],
                **cleared,
            )
            if failed:
                messages_emit([(message, Message.Status.FAILED, reason, "", None)])
        return "failed", failed
    if stopped is not None:
        return "cancelled", mine.update(
            status=Message.Status.CANCELLED,
            error=f"{stopped}; last attempt: {reason}"[:2000],
            **cleared,
        )
    return (
        "retrying",
        mine.update(
            status=Message.Status.QUEUED,
            reported_status="",  # a report about the attempt given up is no longer news
            error=reason[:2000],
            not_before=retry_at,
            **cleared,
        ),
    )


def messages_fail(messages: MessageQuerySet, error: str, **changes: Any) -> int:
    """Fail ``messages`` set-wise with ``error`` (and ``changes``), each with its
    message.failed event, in one transaction; return how many."""
    with transaction.atomic():
        ids = list(messages.values_list("pk", flat=True))
        if not ids:
            return 0
        failed = messages.filter(pk__in=ids).update(
            status=Message.Status.FAILED, error=error[:2000], **changes
        )
        messages_status_emit(message_ids=ids, status=Message.Status.FAILED)
    return failed
