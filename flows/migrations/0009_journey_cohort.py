import django.db.models.deletion
from django.db import migrations, models

from config.migration_operations import AddConstraintConcurrently


def old_key_dropped(apps, schema_editor):
    # On SQLite the table was rebuilt without it.
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            'ALTER TABLE "flows_journey" DROP CONSTRAINT IF EXISTS "journey_once_per_run"'
        )


def old_key_restored(apps, schema_editor):
    schema_editor.execute(
        'CREATE UNIQUE INDEX IF NOT EXISTS "journey_once_per_run" '
        'ON "flows_journey" ("cohort_id", "contact_id")'
    )


class Migration(migrations.Migration):
    """Journeys belong to a cohort (flows' own table) instead of a campaign run.

    The run_id column holds the cohort ids already (campaigns.0009): it is renamed,
    not rewritten. The new unique key is built concurrently on PostgreSQL before the
    old one is dropped. Stop the workers first: the column a running worker reads is
    renamed.
    """

    atomic = False

    dependencies = [
        ('campaigns', '0009_runs_to_cohorts'),
        ('flows', '0008_cohort'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveConstraint(model_name='journey', name='journey_once_per_run'),
            ],
        ),
        migrations.RenameField(model_name='journey', old_name='run', new_name='cohort'),
        migrations.AlterField(
            model_name='journey',
            name='cohort',
            field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='journeys', to='flows.cohort'),
        ),
        AddConstraintConcurrently(
            model_name='journey',
            constraint=models.UniqueConstraint(condition=models.Q(('entry_key', '')), fields=('cohort', 'contact'), name='journey_once_per_cohort'),
        ),
        migrations.RunPython(old_key_dropped, old_key_restored),
    ]
