from django.db import migrations


def create_roles(apps, schema_editor):  # type: ignore[no-untyped-def]
    # The roles follow the code's permissions (console.roles), not a frozen copy.
    from console.roles import roles_sync

    roles_sync()


def drop_roles(apps, schema_editor):  # type: ignore[no-untyped-def]
    Group = apps.get_model("auth", "Group")
    Group.objects.filter(name__in=("Operator", "Viewer")).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("console", "0001_initial"),
        ("auth", "__latest__"),
        ("contenttypes", "__latest__"),
        ("audiences", "__latest__"),
        ("flows", "__latest__"),
        ("campaigns", "__latest__"),
        ("messaging", "__latest__"),
        ("api", "__latest__"),
        ("django_celery_beat", "__latest__"),
    ]

    operations = [migrations.RunPython(create_roles, drop_roles)]
