from django.contrib.admin import apps as admin_apps


class ConsoleAdminConfig(admin_apps.AdminConfig):
    """Django's admin, with the Flowcast site (its index is the dashboard)."""

    default = False  # the console app's own config is console.apps.ConsoleConfig
    default_site = "console.views.site.FlowcastAdminSite"
