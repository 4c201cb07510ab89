from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.template.response import TemplateResponse

from .dashboard import dashboard


class FlowcastAdminSite(admin.AdminSite):
    site_header = "Flowcast console"
    site_title = "Flowcast"
    index_title = "Dashboard"
    index_template = "admin/flowcast_index.html"
    site_url = None  # no public site: the console is the product
    # Lists need the width more than a second menu: the breadcrumbs and the
    # dashboard lead everywhere.
    enable_nav_sidebar = False

    def index(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> TemplateResponse:
        user = request.user
        context = {
            **(extra_context or {}),
            # Each panel only for who may look at what it shows.
            "dashboard": dashboard(),
            "may_view_campaigns": user.has_perm("campaigns.view_campaign"),
            "may_view_imports": user.has_perm("audiences.view_importjob"),
        }
        return super().index(request, context)
