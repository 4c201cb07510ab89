"""Journeys inserted set-wise: one row per contact of a query (INSERT … SELECT)."""

import datetime as dt
import json
from typing import Any

from django.db import connection
from django.db.models import QuerySet

from audiences.models import Contact

from .models import Cohort, Journey


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
