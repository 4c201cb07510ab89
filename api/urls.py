from django.urls import include, path, re_path

from . import http, views
from .v1.urls import schema_urls

urlpatterns = [
    path("events", views.events, name="api_events"),
    path("campaigns", views.campaigns, name="api_campaigns"),
    path("v1/", include("api.v1.urls")),
    *schema_urls,
    # Any character, line breaks too: an address with one is still the API's 404.
    re_path(r"^(?P<path>[\s\S]*)$", http.not_found),
]
