"""Staging rows: where an import's valid rows wait, written set-wise."""

import json
from typing import Any

from django.db import connection

from audiences.models import ImportRow

from .values import ContactRow

# (job id, row number, phone, name, email, custom data, time zone, suppress,
# phone key, email key)
Staged = tuple[int, int, str, str, str, dict[str, Any], str, bool, str, str]
COLUMNS = (
    "job_id",
    "row",
    "phone",
    "name",
    "email",
    "data",
    "timezone",
    "suppress",
    "phone_key",
    "email_key",
)


def staged(job_id: int, number: int, row: ContactRow) -> Staged:
    return (
        job_id,
        number,
        row.phone,
        row.name,
        row.email,
        row.data,
        row.timezone,
        row.suppress,
        row.phone_key,
        row.email_key,
    )


def stage_rows(batch: list[Staged]) -> None:
    """Write a batch of valid rows (COPY on PostgreSQL) and empty the batch."""
    if not batch:
        return
    if connection.vendor == "postgresql":
        table = ImportRow._meta.db_table
        with (
            connection.cursor() as cursor,
            cursor.copy(f"COPY {table} ({', '.join(COLUMNS)}) FROM STDIN") as copy,
        ):
            for values in batch:
                copy.write_row((*values[:5], json.dumps(values[5]), *values[6:]))
    else:
        ImportRow.objects.bulk_create(
            ImportRow(**dict(zip(COLUMNS, values, strict=True))) for values in batch
        )
    batch.clear()


def drop_duplicates(job_id: int) -> list[tuple[int, ContactRow]]:
    """Remove every staged row whose number an earlier row of the file already has;
    return them as (row, its values), in row order.

    Done in SQL after staging, so it holds whatever the file's size and however many
    processes staged it.
    """
    table = ImportRow._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            DELETE FROM {table} WHERE id IN (
                SELECT id FROM (
                    SELECT id, row_number() OVER (PARTITION BY phone ORDER BY row) AS n
                    FROM {table} WHERE job_id = %s
                ) numbered WHERE n > 1
            )
            RETURNING row, phone, name, email, data, timezone, suppress
            """,
            [job_id],
        )
        found = cursor.fetchall()
    return sorted(
        (
            (
                row,
                ContactRow(
                    phone=phone,
                    name=name,
                    email=email,
                    data=data if isinstance(data, dict) else json.loads(data),
                    timezone=zone,
                    suppress=bool(suppress),
                ),
            )
            for row, phone, name, email, data, zone, suppress in found
        ),
        key=lambda found: found[0],
    )


# Staged rows are deleted once applied. After a big import, their dead row versions
# would make the next import's scans and ANALYZE of the staging table read them
# all until autovacuum comes round (a minute or more): clear them at once.
VACUUM_AFTER_ROWS = 50_000


def staging_vacuum(rows: int) -> None:
    """Vacuum the staging table after a job of ``rows`` staged rows is over, when it
    is big enough to matter (PostgreSQL, outside a transaction)."""
    if (
        rows >= VACUUM_AFTER_ROWS
        and connection.vendor == "postgresql"
        and not connection.in_atomic_block
    ):
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM {ImportRow._meta.db_table}")
