from django.urls import path

from . import views

urlpatterns = [
    path("events", views.events, name="api_events"),
    path("campaigns", views.campaigns, name="api_campaigns"),
]
