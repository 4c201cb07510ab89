import django.db.models.deletion
from django.db import migrations, models

from config.migration_operations import AddConstraintConcurrently

TABLE = "messaging_message"


def _postgres(schema_editor):
    return schema_editor.connection.vendor == "postgresql"


def status_index_renamed(apps, schema_editor):
    if _postgres(schema_editor):
        schema_editor.execute(
            'ALTER INDEX IF EXISTS "message_run_status_idx" '
            'RENAME TO "message_batch_status_idx"'
        )
    else:  # the table was rebuilt without it
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "message_batch_status_idx" '
            f'ON "{TABLE}" ("batch_id", "status")'
        )


def status_index_named_back(apps, schema_editor):
    if _postgres(schema_editor):
        schema_editor.execute(
            'ALTER INDEX IF EXISTS "message_batch_status_idx" '
            'RENAME TO "message_run_status_idx"'
        )


def old_keys_dropped(apps, schema_editor):
    # On SQLite the rebuilt table no longer has them.
    schema_editor.execute('DROP INDEX IF EXISTS "messaging_message_journey_id_69a5fd55"')
    schema_editor.execute('DROP INDEX IF EXISTS "message_once_per_journey_step"')
    if _postgres(schema_editor):
        schema_editor.execute(
            f'ALTER TABLE "{TABLE}" DROP CONSTRAINT IF EXISTS '
            '"message_once_per_contact_step"'
        )


def old_keys_restored(apps, schema_editor):
    schema_editor.execute(
        f'CREATE INDEX IF NOT EXISTS "messaging_message_journey_id_69a5fd55" '
        f'ON "{TABLE}" ("journey_id")'
    )
    schema_editor.execute(
        f'CREATE UNIQUE INDEX IF NOT EXISTS "message_once_per_journey_step" '
        f'ON "{TABLE}" ("journey_id", "step") WHERE "batch_id" IS NULL'
    )


class Migration(migrations.Migration):
    """Messages belong to a batch (messaging's own table) instead of a campaign run,
    and name what wrote them by a plain number (``origin``, the journey's id) instead
    of a key into flows' journeys.

    The run_id column holds the batch ids already (campaigns.0009): it is renamed,
    not rewritten. The new unique (origin, step) index is built concurrently on
    PostgreSQL; then the keys it replaces are dropped. Stop the workers first: the
    column a running worker reads is renamed.
    """

    atomic = False

    dependencies = [
        ('campaigns', '0009_runs_to_cohorts'),
        ('messaging', '0008_batch'),
    ]

    operations = [
        # The keys on the old columns leave the model first (their rows stay in the
        # database until the new key is built), so that the renames below do not
        # carry field names that no longer exist.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveConstraint(model_name='message', name='message_once_per_contact_step'),
                migrations.RemoveConstraint(model_name='message', name='message_once_per_journey_step'),
                migrations.RemoveIndex(model_name='message', name='message_run_status_idx'),
                # The journey column stays, as a plain number.
                migrations.RemoveField(model_name='message', name='journey'),
                migrations.AddField(
                    model_name='message',
                    name='origin',
                    field=models.BigIntegerField(blank=True, db_column='journey_id', help_text="What wrote it, as its writer numbers it (a flow's journey): one message per origin and step, however often the writing is repeated.", null=True),
                ),
            ],
        ),
        migrations.RenameField(model_name='message', old_name='run', new_name='batch'),
        migrations.AlterField(
            model_name='message',
            name='batch',
            field=models.ForeignKey(db_constraint=False, db_index=False, help_text='The batch it was written in, which says what it sends and when.', on_delete=django.db.models.deletion.CASCADE, related_name='messages', to='messaging.batch'),
        ),
        AddConstraintConcurrently(
            model_name='message',
            constraint=models.UniqueConstraint(fields=('origin', 'step'), name='message_once_per_origin_step'),
        ),
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunPython(status_index_renamed, status_index_named_back),
            ],
            state_operations=[
                migrations.AddIndex(
                    model_name='message',
                    index=models.Index(fields=['batch', 'status'], name='message_batch_status_idx'),
                ),
            ],
        ),
        migrations.RunPython(old_keys_dropped, old_keys_restored),
        migrations.AlterField(
            model_name='message',
            name='step',
            field=models.PositiveIntegerField(help_text="Which of its batch's templates it sends (the flow step's id)."),
        ),
    ]
