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
from typing import Any, Protocol

from django.db import connection
from django.db.models import Case, Value, When

from .models import Message, MessageQuerySet

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
        self.oldest = 0.0

    def add(self, message: Message, provider_id: str) -> None:
        if not self.rows:
            self.oldest = time.monotonic()
        self.rows.append((message.pk, message.body, provider_id[:200], time.time()))
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
        if self.batched:
            recorded = _record_sent_batch(rows, self.token)
        else:
            recorded = sum(_record_sent_row(row, self.token) for row in rows)
        if recorded < len(rows):
            logger.error(
                "%d messages were sent but their claim was lost", len(rows) - recorded
            )
        self.report.sent += recorded


# A receipt that came before the send was recorded (fast providers) is applied now.
_SENT_STATUS = """CASE m.reported_status WHEN 'delivered' THEN 'delivered'
    WHEN 'failed' THEN 'failed' ELSE 'sent' END"""


def _record_sent_batch(
    rows: list[tuple[int, str, str, float]], token: uuid.UUID
) -> int:
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
            """,
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
        return cursor.rowcount


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
        return "failed", mine.update(
            status=Message.Status.FAILED,
            body=message.body,
            error=reason[:2000],
            **cleared,
        )
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
