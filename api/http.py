"""What every API view shares: JSON errors, and JSON refusals of the wrong method
(never Django's HTML pages)."""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt


def error(status: int, message: str, **extra: Any) -> JsonResponse:
    return JsonResponse({"error": message, **extra}, status=status)


def api_methods(
    *methods: str,
) -> Callable[[Callable[..., JsonResponse]], Callable[..., JsonResponse]]:
    """Accept ``methods`` only, answering any other with a JSON 405 and an Allow
    header. The view is exempt from CSRF: the API is called with a key, not a
    browser's cookie, and a signed-in operator may only read (GET)."""

    def decorate(view: Callable[..., JsonResponse]) -> Callable[..., JsonResponse]:
        @csrf_exempt
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
            if request.method not in methods:
                allowed = ", ".join(methods)
                response = error(
                    405,
                    f"{request.method} is not allowed on {request.path}; use "
                    f"{allowed}.",
                    allowed=list(methods),
                )
                response["Allow"] = allowed
                return response
            return view(request, *args, **kwargs)

        return wrapped

    return decorate


@csrf_exempt
def not_found(request: HttpRequest, path: str = "") -> JsonResponse:
    """Any other address under /api/."""
    return error(
        404,
        f"There is no API endpoint at {request.path}; the endpoints are under "
        "/api/v1/ (listed at /api/schema), besides /api/events (POST) and "
        "/api/campaigns (GET).",
    )
