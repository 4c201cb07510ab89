from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from .models import Flow, FlowStep, FlowVersion
from .publishing import FlowRefused, flow_publish


class FlowStepInline(admin.TabularInline):
    model = FlowStep
    extra = 0
    fields = ["position", "kind", "channel", "body", "wait"]


class FlowVersionInline(admin.TabularInline):
    model = FlowVersion
    extra = 0
    can_delete = False
    fields = readonly_fields = ("number", "published_at", "published_by")
    verbose_name_plural = "published versions"

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Flow)
class FlowAdmin(admin.ModelAdmin):
    list_display = ["name", "trigger", "status", "current_version", "updated_at"]
    list_filter = ["status", "trigger"]
    list_select_related = ["current_version"]
    search_fields = ["name", "description"]
    readonly_fields = ["status", "current_version", "created_at", "updated_at"]
    fields = ["name", "description", "trigger", *readonly_fields]
    actions = ["publish_selected"]
    inlines = [FlowStepInline, FlowVersionInline]

    @admin.action(description="Publish selected flows", permissions=["publish"])
    def publish_selected(self, request: HttpRequest, queryset: QuerySet[Flow]) -> None:
        for flow in queryset:
            try:
                version = flow_publish(flow=flow, actor=request.user)  # type: ignore[arg-type]
            except FlowRefused as exc:
                self.message_user(
                    request, f"{flow.name} was not published: {exc}", messages.ERROR
                )
            else:
                self.message_user(
                    request, f"{flow.name} published as version {version.number}."
                )

    def has_publish_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("flows.publish_flow")
