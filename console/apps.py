from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class ConsoleConfig(AppConfig):
    """The console around the models: roles, audit trail, dashboard, health."""

    name = "console"
    verbose_name = "Console"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import heartbeat  # noqa: F401  (connects the Celery signals)


class ConsoleAdminConfig(admin_apps.AdminConfig):
    """Django's admin, with the Flowcast site (its index is the dashboard)."""

    default = False  # the console app's own config is ConsoleConfig
    default_site = "console.site.FlowcastAdminSite"
