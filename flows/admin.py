from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import RelatedFieldWidgetWrapper
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html

from audiences.models import AudienceGroup
from base.auditing import AuditedAdmin
from config.badges import badge
from config.object_actions import ObjectActionsMixin

from . import journey_admin  # noqa: F401  (the journeys list)
from .admin_events import FlowEventConditionInline
from .forms import FIELD_GROUPS, FlowStepForm, FlowStepFormSet, group_kinds
from .models import Flow, FlowStep, FlowVersion
from .preview import preview_context
from .publishing import (
    FlowRefused,
    flow_archive,
    flow_note_edits,
    flow_problems,
    flow_publish,
    flow_restore,
    snapshot,
    steps_differ_from_published,
)
from .trigger_settings import TRIGGER_FIELDSETS, FlowForm, shown_fieldsets

# The canvas editor's library (MIT), served from static files; see its SOURCE.txt.
DRAWFLOW = "flows/vendor/drawflow-0.0.60/"


class FlowStepInline(admin.TabularInline):
    """One row a step: its position and kind, then only the fields of its kind
    (steps.js switches them as the kind changes; without it, all show, grouped)."""

    model = FlowStep
    form = FlowStepForm
    formset = FlowStepFormSet
    template = "admin/flows/flow/steps_inline.html"
    extra = 0
    # The unnamed fieldset is the position and kind columns; the named ones share
    # one cell, each classed for-<kind> for every kind that uses its fields.
    fieldsets = [
        (name, {"fields": fields, "classes": [f"for-{k}" for k in group_kinds(fields)]})
        for name, fields in [(None, ("position", "kind")), *FIELD_GROUPS]
    ]
    verbose_name = "step"
    verbose_name_plural = "steps"
    # Groups may be thousands: looked up as typed, not a list in every row.
    autocomplete_fields = ["group"]

    class Media:
        css = {
            "all": [
                "flows/steps.css",
                DRAWFLOW + "drawflow.min.css",
                "flows/canvas.css",
            ]
        }
        js = ["flows/steps.js", DRAWFLOW + "drawflow.min.js", "flows/canvas.js"]

    def formfield_for_dbfield(
        self, db_field: "models.Field[Any, Any]", request: HttpRequest, **kwargs: Any
    ) -> forms.Field | None:
        formfield = super().formfield_for_dbfield(db_field, request, **kwargs)
        # A step picks its channel; channels are changed and deleted on their page.
        if formfield is not None and isinstance(
            formfield.widget, RelatedFieldWidgetWrapper
        ):
            formfield.widget.can_change_related = False
            formfield.widget.can_delete_related = False
        return formfield


class FlowVersionInline(admin.TabularInline):
    model = FlowVersion
    extra = 0
    can_delete = False
    fields = readonly_fields = ("number", "published_at", "published_by")
    verbose_name_plural = "published versions"

    def get_queryset(self, request: HttpRequest) -> QuerySet[FlowVersion]:
        # Each row's title names its flow, and its publisher is shown.
        return super().get_queryset(request).select_related("flow", "published_by")

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        # A journey is the record of a contact's way through a flow.
        return False


@admin.register(Flow)
class FlowAdmin(AuditedAdmin, ObjectActionsMixin):
    list_display = ["name", "trigger", "status_badge", "current_version", "updated_at"]
    list_filter = ["status", "trigger"]
    list_select_related = ["current_version__flow"]  # FlowVersion.__str__ reads it
    search_fields = ["name", "description"]
    readonly_fields = [
        "status_badge",
        "current_version",
        "preview_link",
        "created_at",
        "updated_at",
    ]
    fieldsets = [
        (None, {"fields": ["name", "description", "trigger"]}),
        *TRIGGER_FIELDSETS,
        (None, {"fields": list(readonly_fields)}),
    ]
    form = FlowForm
    autocomplete_fields = ["audience_group"]
    actions = ["publish_selected"]
    inlines = [FlowStepInline, FlowEventConditionInline, FlowVersionInline]

    def get_fieldsets(self, request: HttpRequest, obj: Flow | None = None) -> Any:
        fieldsets = super().get_fieldsets(request, obj)
        editable = self.has_change_permission(request, obj)
        return fieldsets if editable else shown_fieldsets(fieldsets, obj)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Flow]:
        # The status badge reads the current version, whose name reads its flow. A
        # bulk message's flow is shown only with its bulk message.
        return (
            super()
            .get_queryset(request)
            .filter(for_bulk=False)
            .select_related("current_version__flow")
        )

    @admin.display(description="status", ordering="status")
    def status_badge(self, flow: Flow) -> str:
        colour = {"draft": "#757575", "published": "#2e7d32", "archived": "#8d6e63"}
        text = flow.get_status_display()
        if flow.status == Flow.Status.PUBLISHED and flow.current_version:
            text += f" v{flow.current_version.number}"
        shown = badge(text, colour.get(flow.status, "#757575"))
        if flow.has_draft_changes:
            return format_html(
                '{} <span style="color:#e65100" title="Publish to send them">'
                "unpublished changes</span>",
                shown,
            )
        return shown

    @admin.display(description="preview")
    def preview_link(self, flow: Flow) -> str:
        if flow.pk is None:
            return "Save the flow first."
        return format_html(
            '<a href="{}">Preview flow chain</a> (the picture and the messages for a '
            "sample contact)",
            reverse("admin:flows_preview", args=[flow.pk]),
        )

    def get_urls(self) -> list[URLPattern]:
        def view(name: str, function: Callable[..., HttpResponse]) -> URLPattern:
            return path(
                f"<int:pk>/{name}/",
                self.admin_site.admin_view(function),
                name=f"flows_{name}",
            )

        return [
            view("publish", self.publish_view),
            view("archive", self.archive_view),
            view("restore", self.restore_view),
            view("preview", self.preview_view),
            *super().get_urls(),
        ]

    def object_actions(self, request: HttpRequest, flow: Flow) -> list[dict[str, Any]]:
        actions: list[dict[str, Any]] = [
            {
                "url": reverse("admin:flows_preview", args=[flow.pk]),
                "label": "Preview",
                "method": "get",
            }
        ]
        if not self.has_publish_permission(request):
            return actions
        if flow.status == Flow.Status.ARCHIVED:
            return [
                *actions,
                {
                    "url": reverse("admin:flows_restore", args=[flow.pk]),
                    "label": "Restore as draft",
                },
            ]
        if flow.status == Flow.Status.DRAFT or flow.has_draft_changes:
            actions.append(
                {
                    "url": reverse("admin:flows_publish", args=[flow.pk]),
                    "label": "Publish",
                    "confirm": "Publish the saved steps as a new version? Campaigns "
                    "saved from now on send it; running ones keep theirs.",
                }
            )
        return [
            *actions,
            {
                "url": reverse("admin:flows_archive", args=[flow.pk]),
                "label": "Archive",
                "confirm": "Archive this flow? No new campaign can choose it.",
                "danger": True,
            },
        ]

    def _post_only(
        self, request: HttpRequest, pk: int, work: Callable[[Flow], str]
    ) -> HttpResponse:
        if not self.has_publish_permission(request):
            raise PermissionDenied
        flow = get_object_or_404(Flow, pk=pk)
        if request.method == "POST":
            try:
                self.message_user(request, work(flow))
            except FlowRefused as exc:
                self.message_user(request, str(exc), messages.ERROR)
        return HttpResponseRedirect(reverse("admin:flows_flow_change", args=[pk]))

    def publish_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        if not self.has_publish_permission(request):
            raise PermissionDenied
        if request.method == "POST":
            self.publish_selected(request, Flow.objects.filter(pk=pk))
        get_object_or_404(Flow, pk=pk)
        return HttpResponseRedirect(reverse("admin:flows_flow_change", args=[pk]))

    def archive_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        def work(flow: Flow) -> str:
            flow_archive(flow=flow)
            return f"{flow.name} is archived; no new campaign can choose it."

        return self._post_only(request, pk, work)

    def restore_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        def work(flow: Flow) -> str:
            flow_restore(flow=flow)
            return f"{flow.name} is a draft again; publish it to use it."

        return self._post_only(request, pk, work)

    def preview_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        flow = get_object_or_404(Flow, pk=pk)
        if not self.has_view_permission(request, flow):
            raise PermissionDenied
        number = request.GET.get("version", "")
        version = None
        if number == "published":
            # From a campaign's form: only a published flow can be previewed
            # (Flow.can_run_in_campaign).
            if flow.current_version is None or flow.status != Flow.Status.PUBLISHED:
                self.message_user(
                    request,
                    f"{flow.name} is not published; only published flows can be "
                    "previewed from a campaign.",
                    messages.ERROR,
                )
                return HttpResponseRedirect(reverse("admin:flows_flow_changelist"))
            version = flow.current_version
        elif number:
            version = (
                flow.versions.filter(number=number).first()
                if number.isdigit()
                else None
            )
            if version is None:
                self.message_user(
                    request,
                    f"{flow.name} has no published version {number}; showing the "
                    "working copy.",
                    messages.WARNING,
                )
        elif not steps_differ_from_published(flow):
            # Nothing new since the last publish: show what campaigns send.
            version = flow.current_version
        steps = version.steps if version else [snapshot(s) for s in flow.steps.all()]
        may_see_contacts = request.user.has_perm("audiences.view_contact")
        group_id = request.GET.get("group", "")
        group = (
            AudienceGroup.objects.filter(pk=group_id).first()
            if group_id.isdigit()
            else None
        )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "flow": flow,
            "version": version,
            "requested_version": number if version else "",
            "title": f"Preview of {flow.name} "
            + (
                f"(version {version.number}, published)"
                if version
                else "(working copy)"
            ),
            "problems": [] if version else flow_problems(flow),
            "contact_query": request.GET.get("contact", ""),
            # Rendering shows a contact's data: only to those who may see contacts.
            "may_see_contacts": may_see_contacts,
            **preview_context(
                steps, request.GET.get("contact", ""), group, contacts=may_see_contacts
            ),
        }
        return TemplateResponse(request, "admin/flows/flow/preview.html", context)

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

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Flow], search_term: str
    ) -> tuple[QuerySet[Flow], bool]:
        results, duplicates = super().get_search_results(request, queryset, search_term)
        if request.GET.get("model_name") == "campaign" and not request.GET.get(
            "list_filter"
        ):
            # The campaign form's search offers only flows a campaign may run
            # (Flow.can_run_in_campaign).
            results = results.filter(
                status=Flow.Status.PUBLISHED, trigger=Flow.Trigger.MANUAL
            )
        return results, duplicates

    def save_related(
        self, request: HttpRequest, form: Any, formsets: Any, change: bool
    ) -> None:
        super().save_related(request, form, formsets, change)
        flow = form.instance
        if flow_note_edits(flow=flow):
            self.message_user(
                request,
                "The steps differ from the published version: campaigns keep sending "
                "the published one until you publish again.",
                messages.WARNING,
            )
        problems = flow_problems(flow)
        if problems and flow.steps.exists():
            self.message_user(
                request,
                "Saved as a draft; to publish, fix: " + " ".join(problems),
                messages.WARNING,
            )
