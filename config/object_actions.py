"""POST buttons on an admin change page (Suspend, End, Publish ...).

A ModelAdmin lists its buttons in ``object_actions(request, obj)``; the shared
template ``admin/object_actions_form.html`` draws them in the object tools bar.
"""

from typing import Any

from django.http import HttpRequest, HttpResponse

from .admin_actions import KnownActionsOnly


class ObjectActionsMixin(KnownActionsOnly):
    change_form_template = "admin/object_actions_form.html"

    def object_actions(self, request: HttpRequest, obj: Any) -> list[dict[str, Any]]:
        """Buttons for ``obj``: dicts of url, label, and optionally confirm, danger."""
        return []

    def object_notice(self, request: HttpRequest, obj: Any) -> str:
        """A sentence shown above the form, saying what saving will do; or ""."""
        return ""

    def object_context(self, request: HttpRequest, obj: Any) -> dict[str, Any]:
        """More of the change page's template context for ``obj``."""
        return {}

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        obj = self.get_object(request, object_id)
        actions = self.object_actions(request, obj) if obj is not None else []
        context = {
            **(extra_context or {}),
            "object_actions": actions,
            "object_notice": self.object_notice(request, obj) if obj else "",
            # A page shown read-only hides the fields' how-to-fill-in help.
            "read_only_page": obj is not None
            and not self.has_change_permission(request, obj),
            **(self.object_context(request, obj) if obj is not None else {}),
        }
        return super().change_view(request, object_id, form_url, context)
