"""Raw SQL for the build and the checks: set-wise statements the ORM has no
word for."""

from typing import Any


def sql(statement: str, params: Any = None) -> list[tuple[Any, ...]]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchall() if cursor.description else []


def table(model: Any) -> str:
    return str(model._meta.db_table)
