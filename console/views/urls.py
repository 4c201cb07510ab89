from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from base import health
from messaging import hooks, media_view, unsubscribe_view

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/")),
    path("healthz", health.healthz, name="healthz"),
    path("api/", include("api.urls")),
    path("hooks/<int:channel_id>/status", hooks.status, name="hooks_status"),
    path("hooks/<int:channel_id>/inbound", hooks.inbound, name="hooks_inbound"),
    path("admin/", admin.site.urls),
    # The unsubscribe link of marketing emails, public: messaging.unsubscribe_view.
    path("u/<str:token>", unsubscribe_view.unsubscribe, name="unsubscribe"),
    # The media library's images, for providers (DEBUG or not): messaging.media_view.
    path(
        f"{settings.MEDIA_URL.strip('/')}/<str:token>/<str:filename>",
        media_view.media_asset,
        name="media_asset",
    ),
]

handler403 = "base.errors.permission_denied"
