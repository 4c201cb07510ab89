from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    """What every app stands on: roles, the audit trail, the heartbeats. The
    console's own pages (the dashboard, a contact's timeline, the admin site) are in
    console.views, on top of every app."""

    name = "console"
    verbose_name = "Console"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from . import heartbeat  # noqa: F401  (connects the Celery signals)

        # The roles follow the code: kept after every migrate (and test flush).
        post_migrate.connect(_keep_roles, sender=self)


def _keep_roles(**kwargs: object) -> None:
    from .roles import roles_sync

    roles_sync()
