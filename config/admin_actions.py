"""List actions only for those who may run them, refused out loud otherwise."""

from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse


class KnownActionsOnly(admin.ModelAdmin):
    """A POST that runs a list action the user may not run (a Viewer's "delete
    selected", a forged form) is refused with 403, as every other state change is,
    instead of being answered with the list and "No action selected"."""

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        action = request.POST.get("action", "") if request.method == "POST" else ""
        if action and action not in self.get_actions(request):
            raise PermissionDenied
        return super().changelist_view(request, extra_context)
