from typing import Any

from django.contrib import admin, messages
from django.http import HttpRequest

from .models import ApiToken


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "prefix", "created_at", "last_used_at", "revoked"]
    list_filter = ["revoked"]
    search_fields = ["name", "prefix"]
    readonly_fields = ["prefix", "created_at", "last_used_at"]
    fields = ["name", "user", "revoked", *readonly_fields]
    autocomplete_fields = ["user"]

    def save_model(
        self, request: HttpRequest, obj: ApiToken, form: Any, change: bool
    ) -> None:
        key = None if change else obj.issue_key()
        super().save_model(request, obj, form, change)
        if key:
            self.message_user(
                request,
                f"The key of {obj.name} is {key} — copy it now: it is not shown again. "
                "Send it as 'Authorization: Bearer <key>'.",
                messages.WARNING,
            )
