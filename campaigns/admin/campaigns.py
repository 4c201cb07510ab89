"""The campaign admin: the list, the form and what saving or deleting does. Its
pages and buttons are in views, the list's actions in actions."""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join

from base.lazy import LAZY_MEDIA, LazyPartsMixin
from config.autocomplete_filter import AutocompleteFilter, autocomplete_media
from config.badges import badge

from ..lifecycle import (
    EDITABLE_FIELDS,
    CampaignRefused,
    campaign_create,
    campaign_delete,
    campaign_update,
)
from ..models import Campaign, CampaignRule, CampaignRun, Schedule
from ..pace import campaign_pace, campaign_run_estimate
from ..selectors import campaigns_delete_totals
from ..targeting import (
    campaign_audience_count,
    campaign_audience_text,
    campaign_conditions_set,
    targeting_text,
)
from .actions import delete_selected, end_selected, suspend_selected
from .audience import form_audience_count, rule_conditions
from .forms import CAMPAIGN_FIELDSETS, CampaignForm
from .guards import StatusGuardsMixin
from .inlines import CampaignEventInline, CampaignRuleInline, ScheduleFilter
from .monitor import monitor_html, stall_context
from .views import CampaignViewsMixin, refusal_reason


@admin.register(Campaign)
class CampaignAdmin(LazyPartsMixin, StatusGuardsMixin, CampaignViewsMixin):
    form = CampaignForm
    list_display = [
        "name",
        "status_badge",
        "period",
        "schedule",
        "flow",
        "group",
        "more_targeting",
    ]
    list_filter = [
        "status",
        ScheduleFilter,
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
        "audience_now",
        "monitor",
    ]
    actions = [suspend_selected, end_selected, delete_selected]
    inlines = [CampaignRuleInline, CampaignEventInline]
    change_form_template = "admin/campaigns/campaign/change_form.html"

    @property
    def media(self) -> forms.Media:
        return (
            super().media
            + autocomplete_media(Campaign, "group", self.admin_site)
            + LAZY_MEDIA
        )

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
        # Bulk messages have their own list (admin.bulk). Whether one has been sent,
        # for every row in one query.
        return (
            super()
            .get_queryset(request)
            .exclude(schedule=Schedule.ONCE)
            .annotate(
                _has_runs=Exists(CampaignRun.objects.filter(campaign=OuterRef("pk")))
            )
            .prefetch_related("also_groups", "excluded_groups", "rules")
        )

    @admin.display(description="also, except, if")
    def more_targeting(self, campaign: Campaign) -> str:
        """The targeting beyond the first group: "+ B − C, any of 2 conditions"."""
        rest = targeting_text(campaign).removeprefix(campaign.group.name)
        return rest.removeprefix(", ").strip() or "—"

    @admin.display(description="audience now")
    def audience_now(self, campaign: Campaign) -> str:
        if campaign.pk is None:
            return "—"
        return self.lazy_slot(campaign, "audience", "counting…")

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
        return self.lazy_slot(campaign, "monitor", "Counting its messages…", block=True)

    lazy_parts = {
        "audience": lambda admin, campaign: str(campaign_audience_count(campaign)),
        "monitor": lambda admin, campaign: monitor_html(campaign),
    }

    def get_inlines(self, request: HttpRequest, obj: Campaign | None) -> list[Any]:
        # The history only once there is one.
        return list(self.inlines) if obj is not None else [CampaignRuleInline]

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

    def object_context(self, request: HttpRequest, obj: Campaign) -> dict[str, Any]:
        pace = campaign_pace(campaign=obj)
        context = {"pace_notice": pace.notice, "pace_title": pace.title} if pace else {}
        return {**context, **stall_context(obj)}

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
        values = {
            name: form.cleaned_data[name]
            for name in (*EDITABLE_FIELDS, "also_groups", "excluded_groups")
        }
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
            request.campaign_refusal = refusal_reason(exc)  # type: ignore[attr-defined]
            return
        # Saved: a plan its group cannot keep up with is the operator's call, told
        # now rather than found later as skipped slots.
        estimate = campaign_run_estimate(campaign=obj)
        if estimate is not None and estimate.warning:
            self.message_user(request, estimate.warning, messages.WARNING)

    def save_related(
        self, request: HttpRequest, form: Any, formsets: Any, change: bool
    ) -> None:
        # The groups were saved with the campaign (campaigns.lifecycle); only its
        # conditions remain, and nothing when the save was refused.
        if getattr(request, "campaign_refusal", None) is not None:
            return
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)
        self.message_user(request, campaign_audience_text(form.instance))

    def save_formset(
        self, request: HttpRequest, form: Any, formset: Any, change: bool
    ) -> None:
        if formset.model is not CampaignRule:
            super().save_formset(request, form, formset, change)
            return
        formset.save(commit=False)  # what the change message lists; written below
        campaign_conditions_set(
            campaign=form.instance, rules=rule_conditions(formset), actor=request.user
        )

    def render_change_form(
        self, request: HttpRequest, context: dict[str, Any], *args: Any, **kwargs: Any
    ) -> Any:
        if request.method == "POST" and "_count" in request.POST:
            context["audience_count"] = form_audience_count(
                context["adminform"].form,
                [inline.formset for inline in context["inline_admin_formsets"]],
            )
        return super().render_change_form(request, context, *args, **kwargs)

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
