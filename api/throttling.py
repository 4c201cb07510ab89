"""Writes are counted per API key (or per signed-in user) and per minute; reads are
not. The limit is API_WRITES_PER_MINUTE (config.rest_api)."""

from typing import Any

from django.conf import settings
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

SAFE = ("GET", "HEAD", "OPTIONS")


class WriteThrottle(SimpleRateThrottle):
    scope = "write"

    def get_rate(self) -> str:
        # Read each time (not when the class is made), so the setting can change.
        return f"{settings.API_WRITES_PER_MINUTE}/min"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        if request.method in SAFE:
            return None
        token = request.auth
        if token is not None and hasattr(token, "pk"):
            ident = f"key-{token.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"user-{request.user.pk}"
        else:
            ident = f"address-{self.get_ident(request)}"
        return f"api-throttle-{self.scope}-{ident}"
