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


class AddConstraintConcurrently(migrations.AddConstraint):
    """A unique constraint added without holding the table against writes.

    On PostgreSQL its unique index is built CONCURRENTLY; a constraint without a
    condition is then made of that index (ADD CONSTRAINT … USING INDEX, a change of
    the catalogue only). Elsewhere it is the plain operation.
    """

    model_name: str
    constraint: Any

    def database_forwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        if schema_editor.connection.vendor != "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)
            return
        model = to_state.apps.get_model(app_label, self.model_name)
        constraint = self.constraint
        quote = schema_editor.quote_name
        table, name = quote(model._meta.db_table), quote(constraint.name)
        columns = ", ".join(
            quote(model._meta.get_field(field).column) for field in constraint.fields
        )
        where = ""
        if constraint.condition is not None:
            where = " WHERE " + constraint._get_condition_sql(model, schema_editor)
        schema_editor.execute(
            f"CREATE UNIQUE INDEX CONCURRENTLY {name} ON {table} ({columns}){where}"
        )
        if constraint.condition is None:
            schema_editor.execute(
                f"ALTER TABLE {table} ADD CONSTRAINT {name} UNIQUE USING INDEX {name}"
            )
