from django.db import migrations


def create_roles(apps, schema_editor):  # type: ignore[no-untyped-def]
    # The roles follow the code's permissions (base.roles), not a frozen copy.
    from base.roles import roles_sync

    roles_sync()


def drop_roles(apps, schema_editor):  # type: ignore[no-untyped-def]
    Group = apps.get_model("auth", "Group")
    Group.objects.filter(name__in=("Operator", "Viewer")).delete()


class Migration(migrations.Migration):
    # Named migrations, not "__latest__": a later migration of these apps would make
    # this one depend on it, and databases that ran this one first inconsistent.
    # (Permissions of later models are added after every migrate: BaseConfig.)
    dependencies = [
        ("console", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("audiences", "0005_membership_drop_redundant_indexes"),
        ("flows", "0005_lean_writes"),
        ("campaigns", "0005_run_pruned_counts"),
        ("messaging", "0006_claims_in_place"),
        ("api", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_roles, drop_roles)]
