"""Every refusal of the API as JSON, in one shape:
``{"error": "what went wrong", "fields": {"phone": "why", ...}}``.

REST framework's own errors (validation, 401, 403, 404, 405, 415, 429) are reshaped
here; an unexpected error is logged and answered 500 in the same shape, never with
Django's HTML page.
"""

import logging
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

logger = logging.getLogger(__name__)


class Conflict(exceptions.APIException):
    """The request is valid but the object's state refuses it (409)."""

    status_code = 409
    default_detail = "The request conflicts with the current state."
    default_code = "conflict"


def plain(detail: Any) -> Any:
    """REST framework's error details as plain JSON: a field's messages joined into
    one sentence, nested objects (one per item of a bulk request) kept."""
    if isinstance(detail, dict):
        return {str(key): plain(value) for key, value in detail.items()}
    if isinstance(detail, list):
        if all(isinstance(item, str) for item in detail):
            return " ".join(str(item) for item in detail)
        return [plain(item) for item in detail]
    return str(detail)


def _message(exc: exceptions.APIException, context: dict[str, Any]) -> str:
    request = context.get("request")
    if isinstance(exc, exceptions.ValidationError):
        return "The request was not accepted; see fields."
    if isinstance(exc, exceptions.NotAuthenticated):
        return (
            "Send an API key as 'Authorization: Bearer <key>' (or sign in to the "
            "console)."
        )
    if isinstance(exc, exceptions.MethodNotAllowed) and request is not None:
        view = context.get("view")
        allowed = ", ".join(getattr(view, "allowed_methods", []) or [])
        return f"{request.method} is not allowed on {request.path}; use {allowed}."
    if isinstance(exc, exceptions.Throttled):
        seconds = getattr(exc, "wait", None)
        wait = f" Try again in {int(seconds) + 1} s." if seconds else ""
        return f"Too many writes with this key in a minute.{wait}"
    if isinstance(exc, exceptions.NotFound) and str(exc.detail) in (
        "Not found.",
        "No %(verbose_name)s matches the given query.",
    ):
        path = request.path if request is not None else "this address"
        return f"Nothing is at {path}."
    if isinstance(exc, exceptions.UnsupportedMediaType):
        return f"{exc.detail} Send JSON with 'Content-Type: application/json'."
    detail = exc.detail
    return str(detail if not isinstance(detail, list | dict) else plain(detail))


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    if isinstance(exc, Http404):
        text = str(exc)
        exc = exceptions.NotFound(
            text if text and "matches the given" not in text else None
        )
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    response = drf_exception_handler(exc, context)
    if response is None:
        view = context.get("view")
        logger.error("API error in %s", type(view).__name__, exc_info=exc)
        return Response(
            {"error": "Something went wrong on our side; it was logged. Try again."},
            status=500,
        )
    assert isinstance(exc, exceptions.APIException)
    body: dict[str, Any] = {"error": _message(exc, context)}
    if isinstance(exc, exceptions.ValidationError):
        detail = plain(exc.detail)
        if isinstance(detail, dict):
            general = detail.pop("non_field_errors", None)
            if general:
                body["error"] = f"The request was not accepted: {general}"
            if detail:
                body["fields"] = detail
        elif isinstance(detail, list):
            body["items"] = detail
        else:
            body["error"] = f"The request was not accepted: {detail}"
    if isinstance(exc, exceptions.MethodNotAllowed):
        view = context.get("view")
        body["allowed"] = list(getattr(view, "allowed_methods", []) or [])
    response.data = body
    return response
