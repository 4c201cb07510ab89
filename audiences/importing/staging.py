"""Staging rows: where an import's valid rows wait, written set-wise."""

import json
from typing import Any

from django.db import connection

from audiences.models import ImportRow

# (job id, row number, phone, name, email, custom data)
Staged = tuple[int, int, str, str, str, dict[str, Any]]


def stage_rows(batch: list[Staged]) -> None:
    """Write a batch of valid rows (COPY on PostgreSQL) and empty the batch."""
    if not batch:
        return
    if connection.vendor == "postgresql":
        table = ImportRow._meta.db_table
        with (
            connection.cursor() as cursor,
            cursor.copy(
                f"COPY {table} (job_id, row, phone, name, email, data) FROM STDIN"
            ) as copy,
        ):
            for job_id, row, phone, name, email, data in batch:
                copy.write_row((job_id, row, phone, name, email, json.dumps(data)))
    else:
        ImportRow.objects.bulk_create(
            ImportRow(
                job_id=job_id, row=row, phone=phone, name=name, email=email, data=data
            )
            for job_id, row, phone, name, email, data in batch
        )
    batch.clear()


def drop_duplicates(job_id: int) -> list[tuple[int, str, str, str, dict[str, Any]]]:
    """Remove every staged row whose number an earlier row of the file already has;
    return them as (row, phone, name, email, data), in row order.

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
            RETURNING row, phone, name, email, data
            """,
            [job_id],
        )
        found = cursor.fetchall()
    return sorted(
        (row, phone, name, email, data if isinstance(data, dict) else json.loads(data))
        for row, phone, name, email, data in found
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
