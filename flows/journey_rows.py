"""Journeys inserted set-wise: one row per contact of a query (INSERT … SELECT)."""

import datetime as dt
import json
import logging
from typing import Any

from django.db import OperationalError, connection, transaction
from django.db.models import QuerySet

from audiences.models import Contact
from base.sql import pg_setting

from .models import Cohort, Journey

logger = logging.getLogger(__name__)

# From this many journeys written at once, the table's statistics are refreshed
# before they are read back (about 0.1 s: ANALYZE reads a sample of 30,000 rows).
RESTAT_FROM = 10_000
# How long the refresh waits for another run's, before doing without.
RESTAT_LOCK_WAIT = "100ms"


def _adapt(moment: dt.datetime) -> Any:
    # Raw SQL skips the field's conversion; SQLite stores text, so it must match
    # the ORM's format to compare correctly.
    return connection.ops.adapt_datetimefield_value(moment)


def journeys_insert(
    contacts: QuerySet[Contact],
    *,
    cohort: Cohort,
    step: int,
    status: str,
    due_at: dt.datetime | None,
    hops: int,
    now: dt.datetime,
    ended_at: dt.datetime | None = None,
    entry_key: str = "",
    context: dict[str, Any] | None = None,
    awaiting_reply: bool = False,
) -> int:
    """One journey in ``cohort`` per contact of ``contacts`` (INSERT … SELECT), none
    where the contact already has one for the cohort or the entry key. Return how
    many were made."""
    contact_sql, params = contacts.values("id").query.sql_with_params()
    version = cohort.flow_version
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {Journey._meta.db_table}
                (flow_id, flow_version_id, cohort_id, contact_id, step, status, due_at,
                 hops, entry_key, context, entered_at, ended_at, end_reason,
                 awaiting_reply)
            SELECT %s, %s, %s, c.id, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s
            FROM ({contact_sql}) c
            WHERE TRUE
            ORDER BY c.id
            ON CONFLICT DO NOTHING
            """,
            [
                version.flow_id,
                version.pk,
                cohort.pk,
                step,
                status,
                _adapt(due_at) if due_at else None,
                hops,
                entry_key,
                json.dumps(context or {}),
                _adapt(now),
                _adapt(ended_at) if ended_at else None,
                "reached the end" if ended_at else "",
                awaiting_reply,
                *params,
            ],
        )
        return max(cursor.rowcount, 0)


def journeys_restat(written: int) -> None:
    """After ``written`` journeys were inserted in this transaction, tell
    PostgreSQL's planner about them, so that the statements reading them back (a
    run's messages: one INSERT … SELECT joining contacts and the suppression list)
    are planned for a million rows, with hash joins, not as the handful its old
    statistics promise, with an index probe per journey (a third slower at 300,000).

    Only for large writes. ANALYZE holds a lock that a concurrent run's refresh
    would wait on until this transaction ends: past a short wait the refresh is
    skipped (the run is only slower, never blocked), and the transaction's own
    lock timeout is left as it was."""
    if connection.vendor != "postgresql" or written < RESTAT_FROM:
        return
    try:
        with (
            transaction.atomic(),
            connection.cursor() as cursor,
            pg_setting(cursor, "lock_timeout", RESTAT_LOCK_WAIT),
        ):
            cursor.execute(f"ANALYZE {Journey._meta.db_table}")
    except OperationalError as exc:
        # The savepoint's rollback also undid the lock timeout set here.
        logger.info("journey statistics not refreshed (%s): planning without", exc)
