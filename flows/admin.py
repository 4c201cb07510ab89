from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import URLPattern, path, reverse

from config.object_actions import ObjectActionsMixin

from .models import Flow, FlowStep, FlowVersion
from .publishing import FlowRefused, flow_publish


class FlowStepInline(admin.TabularInline):
    model = FlowStep
    extra = 0
    fields = ["position", "kind", "channel", "body", "wait"]
    formfield_overrides = {
        models.TextField: {"widget": forms.Textarea(attrs={"rows": 3, "cols": 60})}
    }


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
class FlowAdmin(ObjectActionsMixin):
    list_display = ["name", "trigger", "status", "current_version", "updated_at"]
    list_filter = ["status", "trigger"]
    list_select_related = ["current_version"]
    search_fields = ["name", "description"]
    readonly_fields = ["status", "current_version", "created_at", "updated_at"]
    fields = ["name", "description", "trigger", *readonly_fields]
    actions = ["publish_selected"]
    inlines = [FlowStepInline, FlowVersionInline]

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view(self.publish_view)
        return [
            path("<int:pk>/publish/", view, name="flows_publish"),
            *super().get_urls(),
        ]

    def object_actions(self, request: HttpRequest, flow: Flow) -> list[dict[str, Any]]:
        if not self.has_publish_permission(request):
            return []
        return [
            {
                "url": reverse("admin:flows_publish", args=[flow.pk]),
                "label": "Publish",
                "confirm": "Publish the saved steps as a new version? Campaigns "
                "saved from now on send it; running ones keep theirs.",
            }
        ]

    def publish_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        if not self.has_publish_permission(request):
            raise PermissionDenied
        if request.method == "POST":
            self.publish_selected(request, Flow.objects.filter(pk=pk))
        get_object_or_404(Flow, pk=pk)
        return HttpResponseRedirect(reverse("admin:flows_flow_change", args=[pk]))

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
