from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.actions import delete_selected
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Exists, OuterRef, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join

from config.autocomplete_filter import AutocompleteFilter, autocomplete_media
from config.badges import badge
from config.object_actions import ObjectActionsMixin

from ..bulk import bulk_message_create, bulk_message_preview
from ..lifecycle import (
    EDITABLE_FIELDS,
    CampaignRefused,
    campaign_create,
    campaign_delete,
    campaign_end,
    campaign_resume,
    campaign_suspend,
    campaign_update,
)
from ..models import Campaign, CampaignEvent, CampaignRun
from ..monitoring import COLUMNS, STATUSES, campaign_runs_counted, sends_chart
from ..selectors import (
    campaign_finish_summary,
    campaign_suspend_refusal,
    campaigns_delete_totals,
)
from .forms import CAMPAIGN_FIELDSETS, BulkMessageForm, CampaignForm, ResumeForm

MONITOR_RUNS = 20


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


@admin.register(Campaign)
class CampaignAdmin(ObjectActionsMixin):
    form = CampaignForm
    list_display = [
        "name",
        "status_badge",
        "period",
        "schedule",
        "flow",
        "group",
    ]
    list_filter = [
        "status",
        "schedule",
        ("flow", AutocompleteFilter),
        ("group", AutocompleteFilter),
    ]
    autocomplete_fields = ["flow", "group"]
    list_select_related = ["flow", "group", "flow_version"]
    search_fields = ["name", "flow__name", "group__name"]
    date_hierarchy = "start_at"
    readonly_fields = [
        "status_badge",
        "flow_version",
        "created_at",
        "updated_at",
        "monitor",
    ]
    actions = ["suspend_selected", "end_selected", "delete_selected"]
    inlines = [CampaignEventInline]

    @property
    def media(self) -> forms.Media:
        return super().media + autocomplete_media(Campaign, "group", self.admin_site)

    def formfield_for_dbfield(
        self, db_field: Any, request: HttpRequest, **kwargs: Any
    ) -> Any:
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name in ("flow", "group") and field is not None:
            # No add / change / delete icons beside them: a flow made from here
            # would be an unpublished draft, and deleting the campaign's own flow
            # or group from its form is a trap.
            widget = field.widget
            for flag in ("can_add_related", "can_change_related", "can_delete_related"):
                setattr(widget, flag, False)
        return field

    @admin.display(description="status", ordering="status")
    def status_badge(self, campaign: Campaign) -> str:
        colour = {
            "pending": "#1e88e5",
            "in_progress": "#2e7d32",
            "suspended": "#f9a825",
            "ended": "#616161",
        }.get(campaign.status, "#616161")
        return badge(campaign.get_status_display(), colour)

    def get_list_display(self, request: HttpRequest) -> list[Any]:
        def actions(campaign: Campaign) -> str:
            """What this operator may do with the campaign now, as links: Suspend,
            Resume, Finish, Modify, Delete, as its status allows."""
            links = [
                format_html('<a href="{}">{}</a>', action["url"], action["label"])
                for action in self.object_actions(request, campaign)
                if action["label"] != "Preview flow"
            ]
            if campaign.is_editable and self.has_change_permission(request):
                url = reverse("admin:campaigns_campaign_change", args=[campaign.pk])
                links.append(format_html('<a href="{}">Modify</a>', url))
            if campaign.is_deletable and self.has_delete_permission(request):
                url = reverse("admin:campaigns_campaign_delete", args=[campaign.pk])
                links.append(format_html('<a href="{}">Delete</a>', url))
            return format_html_join(" · ", "{}", ((link,) for link in links))

        actions.short_description = "actions"  # type: ignore[attr-defined]
        may_act = any(
            check(request)
            for check in (
                self.has_change_permission,
                self.has_delete_permission,
                self.has_suspend_permission,
                self.has_end_permission,
                self.has_resume_permission,
            )
        )
        if not may_act:  # a viewer: a column of dashes says nothing
            return list(self.list_display)
        # Beside the status they depend on, where a narrow screen still shows them.
        return [*self.list_display[:2], actions, *self.list_display[2:]]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Campaign]:
        # Whether a bulk message has been sent, for every row in one query.
        return (
            super()
            .get_queryset(request)
            .annotate(
                _has_runs=Exists(CampaignRun.objects.filter(campaign=OuterRef("pk")))
            )
        )

    @admin.display(description="start → end", ordering="start_at")
    def period(self, campaign: Campaign) -> str:
        start, end = (
            timezone.localtime(campaign.start_at),
            timezone.localtime(campaign.end_at),
        )
        same_day = start.date() == end.date()
        return format_html(
            '<span title="{}">{} → {}</span>',
            date_format(start, "e"),
            date_format(start, "Y-m-d H:i"),
            date_format(end, "H:i" if same_day else "Y-m-d H:i"),
        )

    @admin.display(description="messages and runs")
    def monitor(self, campaign: Campaign) -> str:
        if campaign.pk is None:
            return "—"
        counted = campaign_runs_counted(campaign=campaign, newest=MONITOR_RUNS)
        rows, totals = counted.newest, counted.totals
        return render_to_string(
            "admin/campaigns/campaign/monitor.html",
            {
                "campaign": campaign,
                "totals": [
                    {"label": label, "colour": colour, "count": f"{totals[key]:,}"}
                    for key, label, colour in STATUSES
                ],
                "columns": [label for label, _ in COLUMNS],
                "runs": [
                    {
                        "run": row.run,
                        "total": row.total,
                        "done": row.done,
                        "percent": row.percent,
                        "in_flight": row.in_flight,
                        "held": row.held,
                        "cells": [
                            sum(row.counts[key] for key in keys) for _, keys in COLUMNS
                        ],
                    }
                    for row in rows
                ],
                "chart": sends_chart(rows),
                "more": counted.run_count > MONITOR_RUNS,
                "run_count": counted.run_count,
                # Watching a run send: only on the read-only page of a campaign in
                # progress (no form input to lose), while a run is not held.
                "refresh": campaign.status == Campaign.Status.IN_PROGRESS
                and any(row.in_flight and not row.held for row in rows),
            },
        )

    def get_inlines(self, request: HttpRequest, obj: Campaign | None) -> list[Any]:
        return list(self.inlines) if obj is not None else []

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view
        return [
            path(
                "<int:pk>/suspend/", view(self.suspend_view), name="campaigns_suspend"
            ),
            path("<int:pk>/end/", view(self.end_view), name="campaigns_end"),
            path("<int:pk>/resume/", view(self.resume_view), name="campaigns_resume"),
            path("bulk/", view(self.bulk_view), name="campaigns_bulk"),
            *super().get_urls(),
        ]

    def object_actions(
        self, request: HttpRequest, campaign: Campaign
    ) -> list[dict[str, Any]]:
        actions: list[dict[str, Any]] = []
        version = campaign.flow_version
        if version is not None:
            # The version the campaign sends, previewed with its group.
            query = urlencode({"version": version.number, "group": campaign.group_id})
            actions.append(
                {
                    "url": reverse("admin:flows_preview", args=[version.flow_id])
                    + f"?{query}",
                    "label": "Preview flow",
                    "method": "get",
                }
            )
        status = campaign.status
        sent_bulk = campaign.is_sent_bulk()
        if (
            status == Campaign.Status.IN_PROGRESS
            and not sent_bulk
            and self.has_suspend_permission(request)
        ):
            actions.append(self._link("campaigns_suspend", campaign, "Suspend"))
        if status == Campaign.Status.SUSPENDED and self.has_resume_permission(request):
            actions.append(self._link("campaigns_resume", campaign, "Resume"))
        if (
            status != Campaign.Status.ENDED
            and not sent_bulk
            and self.has_end_permission(request)
        ):
            actions.append(self._link("campaigns_end", campaign, "Finish"))
        return actions

    @staticmethod
    def _link(name: str, campaign: Campaign, label: str) -> dict[str, Any]:
        url = reverse(f"admin:{name}", args=[campaign.pk])
        return {"url": url, "label": label, "method": "get"}

    def _confirm_page(
        self, request: HttpRequest, campaigns: list[Campaign], **context: Any
    ) -> TemplateResponse:
        return TemplateResponse(
            request,
            "admin/campaigns/campaign/confirm.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "items": [
                    {"campaign": c, **context.pop(f"item_{c.pk}", {})}
                    for c in campaigns
                ],
                **context,
            },
        )

    def suspend_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        if not self.has_suspend_permission(request):
            raise PermissionDenied
        campaign = get_object_or_404(Campaign, pk=pk)
        if request.method == "POST":
            return self._do(request, campaign, campaign_suspend, "suspended")
        return self._confirm_page(
            request,
            [campaign],
            title=f"Suspend {campaign.name}?",
            question="No further run will start until you resume it with a new start "
            "time. Journeys already on the flow wait where they are.",
            confirm_label="Yes, suspend",
            back_url=reverse("admin:campaigns_campaign_change", args=[pk]),
        )

    def end_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        if not self.has_end_permission(request):
            raise PermissionDenied
        campaign = get_object_or_404(Campaign, pk=pk)
        if request.method == "POST":
            return self._do(request, campaign, campaign_end, "finished")
        return self._confirm_page(
            request,
            [campaign],
            title=f"Finish {campaign.name}?",
            question="Finishing ends the campaign for good:",
            warning="This cannot be undone.",
            danger=True,
            confirm_label="Yes, finish it",
            back_url=reverse("admin:campaigns_campaign_change", args=[pk]),
            **{
                f"item_{campaign.pk}": {
                    "detail": campaign_finish_summary(campaign=campaign)
                }
            },
        )

    def resume_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        if not self.has_resume_permission(request):
            raise PermissionDenied
        campaign = get_object_or_404(Campaign, pk=pk)
        form = ResumeForm(request.POST if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid():
            try:
                campaign_resume(
                    campaign=campaign,
                    start_at=form.cleaned_data["start_at"],
                    actor=request.user,  # type: ignore[arg-type]
                )
            except CampaignRefused as exc:
                form.add_error("start_at", str(exc))
            else:
                campaign.refresh_from_db()
                self.message_user(
                    request,
                    f"Campaign {campaign.name!r} resumes at "
                    f"{timezone.localtime(campaign.start_at):%Y-%m-%d %H:%M}.",
                )
                return HttpResponseRedirect(
                    reverse("admin:campaigns_campaign_change", args=[pk])
                )
        return self._confirm_page(
            request,
            [campaign],
            title=f"Resume {campaign.name}",
            question="A suspended campaign resumes at a new start time, later than "
            "now; it is pending until then.",
            form=form,
            confirm_label="Resume",
            back_url=reverse("admin:campaigns_campaign_change", args=[pk]),
        )

    def bulk_view(self, request: HttpRequest) -> HttpResponse:
        # A bulk message publishes a flow of its own: it takes those rights too.
        if not (
            self.has_add_permission(request)
            and request.user.has_perms(["flows.add_flow", "flows.publish_flow"])
        ):
            raise PermissionDenied
        form = BulkMessageForm(request.POST if request.method == "POST" else None)
        preview = None
        if request.method == "POST" and form.is_valid():
            message = form.bulk_message()
            if "_send" in request.POST:
                try:
                    campaign = bulk_message_create(message=message, actor=request.user)  # type: ignore[arg-type]
                except (CampaignRefused, ValidationError) as exc:
                    form.add_error(None, _reason(exc))
                else:
                    self.message_user(
                        request,
                        f"Bulk message {campaign.name!r} goes to {campaign.group.name} "
                        f"at {timezone.localtime(campaign.start_at):%Y-%m-%d %H:%M}.",
                    )
                    return HttpResponseRedirect(
                        reverse("admin:campaigns_campaign_change", args=[campaign.pk])
                    )
            preview = bulk_message_preview(message=message)
        return TemplateResponse(
            request,
            "admin/campaigns/campaign/bulk.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "title": "Send a bulk message",
                "form": form,
                "preview": preview,
            },
        )

    def _do(
        self, request: HttpRequest, campaign: Campaign, action: Any, done: str
    ) -> HttpResponse:
        try:
            action(campaign=campaign, actor=request.user)
        except CampaignRefused as exc:
            self.message_user(request, str(exc), messages.ERROR)
        else:
            self.message_user(request, f"Campaign {campaign.name!r} {done}.")
        return HttpResponseRedirect(
            reverse("admin:campaigns_campaign_change", args=[campaign.pk])
        )

    def get_fieldsets(
        self, request: HttpRequest, obj: Campaign | None = None
    ) -> list[Any]:
        fieldsets: list[Any] = [*CAMPAIGN_FIELDSETS]
        if obj is not None:
            fieldsets += [
                (None, {"fields": self.readonly_fields[:-1]}),
                ("Monitoring", {"fields": ["monitor"]}),
            ]
        return fieldsets

    def object_notice(self, request: HttpRequest, obj: Campaign) -> str:
        if obj.status == Campaign.Status.SUSPENDED and self.has_change_permission(
            request, obj
        ):
            return (
                "This campaign is suspended. Saving it resumes it: give a start later "
                "than now, and it waits, pending, until then. The Resume button does "
                "the same without other changes."
            )
        return ""

    def has_change_permission(
        self, request: HttpRequest, obj: Campaign | None = None
    ) -> bool:
        if obj is not None and not obj.is_editable:
            # Shown read-only: only pending or suspended campaigns may be modified.
            return False
        if (
            obj is not None
            and obj.status == Campaign.Status.SUSPENDED
            and not self.has_resume_permission(request)
        ):
            # Saving a suspended campaign resumes it (with its new start).
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(
        self, request: HttpRequest, obj: Campaign | None = None
    ) -> bool:
        if obj is not None and not obj.is_deletable:
            return False
        return super().has_delete_permission(request, obj)

    def save_model(
        self, request: HttpRequest, obj: Campaign, form: forms.ModelForm, change: bool
    ) -> None:
        values = {name: form.cleaned_data[name] for name in EDITABLE_FIELDS}
        try:
            if change:
                campaign_update(campaign=obj, actor=request.user, **values)  # type: ignore[arg-type]
            else:
                saved = campaign_create(actor=request.user, **values)  # type: ignore[arg-type]
                obj.pk = saved.pk
                obj.refresh_from_db()
        except (CampaignRefused, ValidationError) as exc:
            # A change between the form's checks and the save (the campaign started,
            # the start minute passed). The response_* and log_* hooks below read
            # this: the operator goes back to the form and nothing is logged as saved.
            request.campaign_refusal = _reason(exc)  # type: ignore[attr-defined]

    def _refusal(self, request: HttpRequest) -> HttpResponse | None:
        refusal = getattr(request, "campaign_refusal", None)
        if refusal is None:
            return None
        self.message_user(request, f"Not saved: {refusal}", messages.ERROR)
        return HttpResponseRedirect(request.path)

    def response_add(
        self, request: HttpRequest, obj: Campaign, post_url_continue: str | None = None
    ) -> HttpResponse:
        return self._refusal(request) or super().response_add(
            request, obj, post_url_continue
        )

    def response_change(self, request: HttpRequest, obj: Campaign) -> HttpResponse:
        return self._refusal(request) or super().response_change(request, obj)

    def log_addition(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        if getattr(request, "campaign_refusal", None) is None:
            return super().log_addition(request, obj, message)
        return None

    def log_change(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        if getattr(request, "campaign_refusal", None) is None:
            return super().log_change(request, obj, message)
        return None

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> Any:
        # Django lists every row a delete would take: millions of messages and
        # journeys for a big campaign. Say what goes, in numbers, from the runs.
        # Runs, messages and history go with their campaign: campaign_delete is the
        # guard, not the delete permissions of those records (nobody has them).
        campaigns = list(objs)
        totals = campaigns_delete_totals(campaigns=campaigns)
        deleted = [format_html("Campaign: {}", campaign.name) for campaign in campaigns]
        counts = {
            "campaigns": len(campaigns),
            "runs": totals.runs,
            "messages": totals.messages,
            "contacts' journeys": totals.journeys,
        }
        return deleted, {k: v for k, v in counts.items() if v}, set(), []

    @admin.action(description="Delete selected campaigns", permissions=["delete"])
    def delete_selected(
        self, request: HttpRequest, queryset: QuerySet[Campaign]
    ) -> HttpResponse | None:
        """Django's delete confirmation, for the campaigns that may be deleted; each
        one in progress is named with the reason it stays."""
        for campaign in queryset.filter(status=Campaign.Status.IN_PROGRESS):
            self.message_user(
                request,
                f"Campaign {campaign.name!r} is in progress and was left out; suspend "
                "or end it before deleting it.",
                messages.ERROR,
            )
        deletable = queryset.exclude(status=Campaign.Status.IN_PROGRESS)
        if not deletable.exists():
            return None
        return delete_selected(self, request, deletable)

    def delete_model(self, request: HttpRequest, obj: Campaign) -> None:
        campaign_delete(campaign=obj, actor=request.user)  # type: ignore[arg-type]

    def delete_queryset(
        self, request: HttpRequest, queryset: QuerySet[Campaign]
    ) -> None:
        for campaign in queryset:
            try:
                campaign_delete(campaign=campaign, actor=request.user)  # type: ignore[arg-type]
            except CampaignRefused as exc:
                self.message_user(request, str(exc), messages.ERROR)

    @admin.action(description="Suspend selected campaigns", permissions=["suspend"])
    def suspend_selected(
        self, request: HttpRequest, queryset: QuerySet[Campaign]
    ) -> HttpResponse | None:
        campaigns = list(queryset)
        if request.POST.get("post") == "yes":
            self._apply(request, campaigns, campaign_suspend, "suspended")
            return None
        return self._confirm_page(
            request,
            campaigns,
            title="Suspend the selected campaigns?",
            question="No further run will start for these until each is resumed with "
            "a new start time.",
            confirm_label="Yes, suspend them",
            selected=[c.pk for c in campaigns],
            action_name="suspend_selected",
            back_url=reverse("admin:campaigns_campaign_changelist"),
            **{
                f"item_{c.pk}": {"refusal": campaign_suspend_refusal(campaign=c)}
                for c in campaigns
                if campaign_suspend_refusal(campaign=c)
            },
        )

    @admin.action(
        description="Finish selected campaigns (cannot be undone)", permissions=["end"]
    )
    def end_selected(
        self, request: HttpRequest, queryset: QuerySet[Campaign]
    ) -> HttpResponse | None:
        campaigns = list(queryset)
        if request.POST.get("post") == "yes":
            self._apply(request, campaigns, campaign_end, "finished")
            return None
        return self._confirm_page(
            request,
            campaigns,
            title="Finish the selected campaigns?",
            question="Finishing ends each campaign for good:",
            warning="This cannot be undone.",
            danger=True,
            confirm_label="Yes, finish them",
            selected=[c.pk for c in campaigns],
            action_name="end_selected",
            back_url=reverse("admin:campaigns_campaign_changelist"),
            **{
                f"item_{c.pk}": {"detail": campaign_finish_summary(campaign=c)}
                for c in campaigns
            },
        )

    def has_suspend_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("campaigns.suspend_campaign")

    def has_end_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("campaigns.end_campaign")

    def has_resume_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("campaigns.resume_campaign")

    def _apply(
        self, request: HttpRequest, campaigns: list[Campaign], action: Any, done: str
    ) -> None:
        succeeded = []
        for campaign in campaigns:
            try:
                action(campaign=campaign, actor=request.user)
            except CampaignRefused as exc:
                self.message_user(request, str(exc), messages.ERROR)
            else:
                succeeded.append(campaign.name)
        if succeeded:
            self.message_user(request, f"{done.capitalize()}: {', '.join(succeeded)}.")


def _reason(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    return str(exc)
