from django.urls import path, re_path

from . import http, views

urlpatterns = [
    path("events", views.events, name="api_events"),
    path("campaigns", views.campaigns, name="api_campaigns"),
    re_path(r"^(?P<path>.*)$", http.not_found),
]
