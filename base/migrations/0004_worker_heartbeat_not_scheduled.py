"""Workers beat from a timer of their own (base.heartbeat.WorkerHeartbeat): beat no
longer queues a task to keep their heartbeat fresh. Beat never deletes the rows of
entries dropped from CELERY_BEAT_SCHEDULE, so the old entry's row goes here."""

from django.db import migrations
from django.utils import timezone

NAME = "system: worker heartbeat"


def unschedule(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTasks = apps.get_model("django_celery_beat", "PeriodicTasks")
    if PeriodicTask.objects.filter(name=NAME).delete()[0]:
        # What PeriodicTasks.update_changed() does: a running beat reloads its schedule.
        PeriodicTasks.objects.update_or_create(
            ident=1, defaults={"last_update": timezone.now()}
        )


class Migration(migrations.Migration):
    dependencies = [
        ("console", "0003_audit_names"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    # Undone, beat puts the entry back itself if the settings still name it.
    operations = [migrations.RunPython(unschedule, migrations.RunPython.noop)]
