from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from base.auditing import AuditedAdmin

from .models import ApiToken


@admin.register(ApiToken)
class ApiTokenAdmin(AuditedAdmin):
    list_display = ["name", "user", "prefix", "created_at", "last_used_at", "revoked"]
    list_filter = ["revoked"]
    search_fields = ["name", "prefix"]
    readonly_fields = ["prefix", "created_at", "last_used_at"]
    fields = ["name", "user", "revoked", *readonly_fields]

    def get_form(
        self,
        request: HttpRequest,
        obj: Any | None = None,
        change: bool = False,
        **kwargs: Any,
    ) -> Any:
        form = super().get_form(request, obj, change, **kwargs)
        if not request.user.is_superuser and "user" in form.base_fields:
            # A key acts as its user: nobody but a superuser issues one for another.
            field = form.base_fields["user"]
            field.queryset = field.queryset.filter(pk=request.user.pk)  # type: ignore[attr-defined]
            field.initial = request.user.pk
        return form

    def save_model(
        self, request: HttpRequest, obj: ApiToken, form: Any, change: bool
    ) -> None:
        if not request.user.is_superuser and obj.user_id != request.user.pk:
            raise PermissionDenied
        key = None if change else obj.issue_key()
        super().save_model(request, obj, form, change)
        if key:
            self.message_user(
                request,
                f"The key of {obj.name} is {key} — copy it now: it is not shown again. "
                "Send it as 'Authorization: Bearer <key>'.",
                messages.WARNING,
            )
