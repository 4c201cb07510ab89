from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from .audit import acting_as


class AuditActorMiddleware:
    """Changes made while serving a request are recorded as made by its user."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with acting_as(getattr(request, "user", None), label="anonymous"):
            return self.get_response(request)
