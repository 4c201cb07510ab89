from django.contrib import admin
from django.urls import path

from . import health

admin.site.site_header = "Flowcast console"
admin.site.site_title = "Flowcast"
admin.site.index_title = "Campaigns, audiences, flows and messages"

urlpatterns = [
    path("", admin.site.admin_view(lambda request: health.redirect_to_admin())),
    path("healthz", health.healthz, name="healthz"),
    path("admin/", admin.site.urls),
]
