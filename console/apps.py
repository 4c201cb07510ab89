from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class ConsoleConfig(AppConfig):
    """The console around the models: roles, audit trail, dashboard, health."""

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


class ConsoleAdminConfig(admin_apps.AdminConfig):
    """Django's admin, with the Flowcast site (its index is the dashboard)."""

    default = False  # the console app's own config is ConsoleConfig
    default_site = "console.site.FlowcastAdminSite"

    def ready(self) -> None:
        super().ready()
        from audiences.admin.sections import ContactSection, contact_section_register

        from .timeline import timeline_context

        contact_section_register(
            ContactSection(
                name="timeline",
                template="admin/audiences/contact/timeline.html",
                context=timeline_context,
                # Mostly the contact's messages: shown to those who may see them.
                permission="messaging.view_message",
            )
        )
