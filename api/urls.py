from django.urls import include, path, re_path

from . import http, views
from .v1.urls import schema_urls

urlpatterns = [
    path("events", views.events, name="api_events"),
    path("campaigns", views.campaigns, name="api_campaigns"),
    path("v1/", include("api.v1.urls")),
    *schema_urls,
    re_path(r"^(?P<path>.*)$", http.not_found),
]
