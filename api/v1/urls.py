"""/api/v1/…: the REST API, its schema and its reference page."""

from typing import Any

from django.contrib.admin.views.decorators import staff_member_required
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import SimpleRouter

from .bulk import BulkMessageViewSet
from .campaigns import CampaignViewSet
from .contacts import ContactViewSet
from .events import EventViewSet
from .flows import FlowViewSet
from .groups import GroupViewSet, VariableViewSet
from .messages import MessageViewSet
from .runs import RunViewSet
from .sends import SendViewSet


class IdRouter(SimpleRouter):
    """Objects are addressed by id: a path with anything else (or a number past a
    64-bit id) is no object's, and answers the API's 404."""

    def get_lookup_regex(self, viewset: Any, lookup_prefix: str = "") -> str:
        return f"(?P<{lookup_prefix}pk>[0-9]{{1,18}})"


router = IdRouter(trailing_slash=False)
router.register("contacts", ContactViewSet, basename="contact")
router.register("groups", GroupViewSet, basename="group")
router.register("variables", VariableViewSet, basename="variable")
router.register("flows", FlowViewSet, basename="flow")
router.register("campaigns", CampaignViewSet, basename="campaign")
router.register("runs", RunViewSet, basename="run")
router.register("bulk-messages", BulkMessageViewSet, basename="bulk-message")
router.register("sends", SendViewSet, basename="send")
router.register("messages", MessageViewSet, basename="message")
router.register("events", EventViewSet, basename="event")

urlpatterns = [
    path("", include(router.urls)),
]

schema_urls = [
    path("schema", SpectacularAPIView.as_view(), name="api_schema"),
    path(
        "docs",
        staff_member_required(
            SpectacularSwaggerView.as_view(url_name="api_schema"),
            login_url="admin:login",
        ),
        name="api_docs",
    ),
]
