from django.apps import AppConfig


class BaseConfig(AppConfig):
    """What every app stands on: roles, the audit trail, the heartbeats, /healthz.
    The console's own pages (the dashboard, a contact's timeline, the admin site) are
    in console.views, on top of every app.

    Its label stays "console": its tables, permissions and admin pages
    (/admin/console/...) were named so before the console's pages moved out.
    """

    name = "base"
    label = "console"
    verbose_name = "Console"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from config.celery import app

        from .heartbeat import WorkerHeartbeat  # (also connects the Celery signals)
        from .roles import roles_sync

        # Before any worker is built: its consumer's steps are read when it starts.
        app.steps["consumer"].add(WorkerHeartbeat)

        # The roles follow the code: kept after every migrate (and test flush).
        post_migrate.connect(lambda **_: roles_sync(), sender=self, weak=False)
