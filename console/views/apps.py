from django.contrib.admin import apps as admin_apps


class ConsoleAdminConfig(admin_apps.AdminConfig):
    """Django's admin, with the Flowcast site (its index is the dashboard)."""

    default = False  # the base app's own config is base.apps.BaseConfig
    default_site = "console.views.site.FlowcastAdminSite"

    def ready(self) -> None:
        from django.contrib.admin import options

        from base.dates import admin_defaults

        # Before the ModelAdmins are made (super().ready() finds them), each of
        # which copies these: every date and time input says its format.
        options.FORMFIELD_FOR_DBFIELD_DEFAULTS.update(admin_defaults())
        super().ready()
        from audiences.admin.sections import ContactSection, contact_section_register

        from .timeline_pages import timeline_context

        contact_section_register(
            ContactSection(
                name="timeline",
                template="admin/audiences/contact/timeline.html",
                context=timeline_context,
                # Mostly the contact's messages: shown to those who may see them.
                permission="messaging.view_message",
            )
        )
