"""Index operations for big tables that leave them readable and writable.

On PostgreSQL an index is built and dropped CONCURRENTLY: a plain CREATE INDEX
holds the table against writes, and a plain DROP INDEX against reads too, until the
migration's transaction ends. Elsewhere (SQLite, the embedded default) they are the
plain operations. A migration using them sets ``atomic = False``.
"""

from typing import Any

from django.contrib.postgres import operations as postgres
from django.db import migrations


class _PlainOffPostgres:
    """The concurrent operation on PostgreSQL, ``plain``'s everywhere else."""

    plain: Any  # the plain operation class

    def database_forwards(
        self, app_label: str, schema_editor: Any, *states: Any
    ) -> None:
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, *states)  # type: ignore[misc]
        else:
            self.plain.database_forwards(self, app_label, schema_editor, *states)

    def database_backwards(
        self, app_label: str, schema_editor: Any, *states: Any
    ) -> None:
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, *states)  # type: ignore[misc]
        else:
            self.plain.database_backwards(self, app_label, schema_editor, *states)


class AddIndexConcurrently(_PlainOffPostgres, postgres.AddIndexConcurrently):
    plain = migrations.AddIndex


class RemoveIndexConcurrently(_PlainOffPostgres, postgres.RemoveIndexConcurrently):
    plain = migrations.RemoveIndex
