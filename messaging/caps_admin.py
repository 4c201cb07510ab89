"""The admin of frequency caps (messaging.caps): a short list, one line each."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse

from base.auditing import AuditedAdmin

from .caps import FrequencyCap

EXPLAINED = (
    "Every enabled cap applies at once. A marketing message over a cap is not "
    "dropped: it waits (deferred, “capped until …” on the contact's timeline) and "
    "goes out when the contact is under every cap again, or is cancelled when its "
    "campaign ends. Transactional sends and inbox answers are never held nor counted."
)


@admin.register(FrequencyCap)
class FrequencyCapAdmin(AuditedAdmin):
    list_display = ["cap", "enabled", "created_at"]
    list_filter = ["enabled"]
    list_select_related = ["channel"]
    fields = ["messages", "days", "channel", "enabled"]

    @admin.display(description="cap", ordering="days")
    def cap(self, cap: FrequencyCap) -> str:
        return str(cap)

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        extra_context = {"explained": EXPLAINED, **(extra_context or {})}
        return super().changelist_view(request, extra_context)
