from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from . import health

admin.site.site_header = "Flowcast console"
admin.site.site_title = "Flowcast"
admin.site.index_title = "Campaigns, audiences, flows and messages"

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/")),
    path("healthz", health.healthz, name="healthz"),
    path("api/", include("api.urls")),
    path("admin/", admin.site.urls),
]
