"""POST buttons on an admin change page (Suspend, End, Publish ...).

A ModelAdmin lists its buttons in ``object_actions(request, obj)``; the shared
template ``admin/object_actions_form.html`` draws them in the object tools bar.
"""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse


class ObjectActionsMixin(admin.ModelAdmin):
    change_form_template = "admin/object_actions_form.html"

    def object_actions(self, request: HttpRequest, obj: Any) -> list[dict[str, Any]]:
        """Buttons for ``obj``: dicts of url, label, and optionally confirm, danger."""
        return []

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        obj = self.get_object(request, object_id)
        actions = self.object_actions(request, obj) if obj is not None else []
        context = {**(extra_context or {}), "object_actions": actions}
        return super().change_view(request, object_id, form_url, context)
