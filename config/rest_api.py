"""The REST API's settings (Django REST framework, drf-spectacular), read by
config.settings. The classes named here live in the api app."""

import os
from typing import Any

from config.environment import env_int

# Writes (POST, PUT, PATCH, DELETE) one API key, or one signed-in user, may make per
# minute; more are answered 429 with Retry-After. Reads are not counted.
API_WRITES_PER_MINUTE = env_int("API_WRITES_PER_MINUTE", 600)
# Items a list page holds when the caller does not ask (?limit=), and at most.
API_PAGE_SIZE = env_int("API_PAGE_SIZE", 100)
API_PAGE_MAX = env_int("API_PAGE_MAX", 1000)
# Contacts one bulk upsert may carry.
API_BULK_MAX = env_int("API_BULK_MAX", 1000)
# How long a transactional send's Idempotency-Key is remembered (hours).
API_IDEMPOTENCY_HOURS = env_int("API_IDEMPOTENCY_HOURS", 24)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.auth.ApiKeyAuthentication",
        "api.auth.ConsoleSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["api.permissions.RolePermissions"],
    "DEFAULT_PAGINATION_CLASS": "api.paging.CursorPage",
    "PAGE_SIZE": API_PAGE_SIZE,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_THROTTLE_CLASSES": ["api.throttling.WriteThrottle"],
    "DEFAULT_THROTTLE_RATES": {"write": f"{API_WRITES_PER_MINUTE}/min"},
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "EXCEPTION_HANDLER": "api.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "NUM_PROXIES": env_int("FLOWCAST_TRUSTED_PROXIES", 0),
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Flowcast API",
    "DESCRIPTION": (
        "Contacts, groups, flows, campaigns, bulk and transactional messages. "
        "Authenticate with an API key (console: API › API tokens) sent as "
        "'Authorization: Bearer <key>'; the key acts with its user's role. Errors are "
        'JSON: {"error": "...", "fields": {...}}. Lists page with a cursor: follow '
        "'next'."
    ),
    "VERSION": "1",
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "api.schema.error_responses",
    ],
    "SERVERS": [{"url": os.environ.get("FLOWCAST_PUBLIC_URL", "").rstrip("/")}]
    if os.environ.get("FLOWCAST_PUBLIC_URL")
    else [],
}


def caches(redis_url: str) -> dict[str, Any]:
    """Django's cache, which holds the API's write counts per key: in Redis, so every
    web process counts together; without Redis, each process counts its own."""
    if not redis_url:
        return {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    return {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": redis_url,
            "KEY_PREFIX": "flowcast-cache",
        }
    }
