"""The campaign page's rows of history and of conditions, and the list's filter by
plan."""

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from ..models import Campaign, CampaignEvent, CampaignRule, Schedule


class CampaignEventInline(admin.TabularInline):
    model = CampaignEvent
    extra = 0
    can_delete = False
    fields = readonly_fields = ("at", "came_from", "to_status", "by", "note")
    verbose_name_plural = "history"

    @admin.display(description="from status")
    def came_from(self, event: CampaignEvent) -> str:
        # Creating or modifying a campaign leaves its status as it was.
        if event.from_status == event.to_status:
            return "—"
        return event.get_from_status_display()

    @admin.display(description="by")
    def by(self, event: CampaignEvent) -> str:
        return str(event.actor) if event.actor_id else "the schedule"

    def get_queryset(self, request: HttpRequest) -> QuerySet[CampaignEvent]:
        return super().get_queryset(request).select_related("actor", "campaign")

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class CampaignRuleInline(admin.TabularInline):
    model = CampaignRule
    extra = 1
    fields = ("field", "op", "value")
    verbose_name_plural = "conditions (optional): only contacts meeting them"


class ScheduleFilter(admin.SimpleListFilter):
    """The campaigns' plans; bulk messages ("once") have their own list."""

    title = "schedule"
    parameter_name = "schedule__exact"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(str(v), str(label)) for v, label in Schedule.choices if v != "once"]

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[Campaign]
    ) -> QuerySet[Campaign]:
        if self.value() in dict(self.lookups(request, None)):
            return queryset.filter(schedule=self.value())
        return queryset
