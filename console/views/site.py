from typing import Any

from django.conf import settings
from django.contrib import admin
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import URLPattern, URLResolver, path, reverse

from base.accounts import ConsoleAuthenticationForm
from base.clock import my_settings

from .dashboard import dashboard
from .timeline_pages import timeline_view

# The product's apps, in the order an operator works with them. Apps not named here
# follow in Django's order, and the machinery under the console comes last.
PRODUCT_APPS = (
    "campaigns",
    "flows",
    "audiences",
    "messaging",
    "stream",
    "console",
    "api",
    "auth",
)
# Third-party apps an administrator may need now and then: under System, last, each
# said in words.
SYSTEM_APPS = {
    "django_celery_beat": (
        "Scheduled tasks (celery beat)",
        "What beat sends to the workers, and when. A campaign's task follows the "
        "campaign whenever it is saved: change the campaign, not its task. The "
        "“system: …” tasks come from the settings and are restored when beat starts.",
    ),
    "axes": (
        "Sign-in attempts and lockouts (axes)",
        "After {limit} wrong passwords for one user name, from any address, that user "
        "name is locked out for {minutes} minutes; after {limit} from one address, "
        "whatever the user names, that address is. Delete the access attempts of the "
        "user name or of the address to let it sign in sooner.",
    ),
}


def _place(app: dict[str, Any]) -> tuple[int, int]:
    label = app["app_label"]
    if label in SYSTEM_APPS:
        return 2, list(SYSTEM_APPS).index(label)
    if label in PRODUCT_APPS:
        return 0, PRODUCT_APPS.index(label)
    return 1, 0  # the sort is stable: Django's order among these


def _system_section(app: dict[str, Any]) -> dict[str, Any]:
    name, help_text = SYSTEM_APPS[app["app_label"]]
    cooloff = settings.AXES_COOLOFF_TIME
    minutes = round(cooloff.total_seconds() / 60) if cooloff else 0
    return {
        # Django's app list markup, for this one app under its plain name.
        "apps": [{**app, "name": name}],
        "help": help_text.format(limit=settings.AXES_FAILURE_LIMIT, minutes=minutes),
    }


class FlowcastAdminSite(admin.AdminSite):
    site_header = "Flowcast console"
    site_title = "Flowcast"
    index_title = "Dashboard"
    index_template = "admin/flowcast_index.html"
    site_url = None  # no public site: the console is the product
    # Lists need the width more than a second menu: the breadcrumbs and the
    # dashboard lead everywhere.
    enable_nav_sidebar = False
    login_form = ConsoleAuthenticationForm

    def get_app_list(
        self, request: HttpRequest, app_label: str | None = None
    ) -> list[Any]:
        """The product's apps first, in working order; the system's last. The API's
        app leads to its reference too."""
        apps = sorted(super().get_app_list(request, app_label), key=_place)
        for app in apps:
            if app["app_label"] == "api":
                app["models"].append(
                    {
                        "name": "API reference (every endpoint, tried in the page)",
                        "object_name": "ApiReference",
                        "perms": {"view": True},
                        "admin_url": reverse("api_docs"),
                        "view_only": True,
                    }
                )
        return apps

    def index(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> TemplateResponse:
        user = request.user
        apps = self.get_app_list(request)
        context = {
            **(extra_context or {}),
            # Each panel only for who may look at what it shows.
            "dashboard": dashboard(),
            "may_view_campaigns": user.has_perm("campaigns.view_campaign"),
            "may_view_imports": user.has_perm("audiences.view_importjob"),
            "app_list": [app for app in apps if app["app_label"] not in SYSTEM_APPS],
            "system_apps": [
                _system_section(app) for app in apps if app["app_label"] in SYSTEM_APPS
            ],
        }
        return super().index(request, context)

    def get_urls(self) -> list[URLPattern | URLResolver]:
        return [
            # Each operator's own page, under the admin's sign-in like every page.
            path("my-settings/", self.admin_view(my_settings), name="my_settings"),
            path(
                "timeline/<int:contact_id>/",
                self.admin_view(timeline_view),
                name="contact_timeline",
            ),
            *super().get_urls(),
        ]
