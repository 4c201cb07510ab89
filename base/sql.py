"""Small helpers for raw SQL on PostgreSQL."""

import contextlib
from collections.abc import Iterator
from typing import Any


@contextlib.contextmanager
def pg_setting(cursor: Any, name: str, value: str) -> Iterator[None]:
    """Run the block's statements with PostgreSQL's setting ``name`` at ``value``,
    then put back what the transaction had. Inside transaction.atomic(): the
    setting is the transaction's own (set_config(…, true)), and a block that fails
    rolls it back with its savepoint."""
    cursor.execute(
        "SELECT current_setting(%s), set_config(%s, %s, true)", [name, name, value]
    )
    (before, _) = cursor.fetchone()
    yield
    cursor.execute("SELECT set_config(%s, %s, true)", [name, before])
