"""Campaign runs, read-only: one row per slot, with its messages by status."""

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.html import format_html

from config.records_admin import RecordAdmin

from ..counting import run_counts
from ..models import Campaign, CampaignRun
from ..pace import campaign_pace, duration_text
from ..stalls import run_stall_text


class MovingFilter(admin.SimpleListFilter):
    title = "moving"
    parameter_name = "moving"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("no", "Not moving (messages due, nothing sent)")]

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[CampaignRun]
    ) -> QuerySet[CampaignRun]:
        if self.value() == "no":
            return queryset.filter(stalled_since__isnull=False)
        return queryset


@admin.register(CampaignRun)
class CampaignRunAdmin(RecordAdmin):
    list_display = [
        "campaign",
        "scheduled_for",
        "status_and_reason",
        "took",
        "recipients",
        "queued",
        "sent",
        "failed",
        "skipped_count",
    ]
    list_filter = ["campaign", "status", MovingFilter]
    list_select_related = ["campaign"]
    search_fields = ["campaign__name"]
    date_hierarchy = "scheduled_for"
    fields = readonly_fields = (
        "campaign",
        "scheduled_for",
        "flow_version",
        "status",
        "note",
        "recipients",
        "messages_created",
        "skipped",
        "started_at",
        "finished_at",
        "took",
        "stalled_since",
        "stall_due",
        "stall_alerted_at",
    )

    @admin.display(description="status", ordering="status")
    def status_and_reason(self, run: CampaignRun) -> str:
        """Its status, and for a skipped run why (how much the previous run still
        had to send)."""
        if run.skip_reason:
            return format_html('Skipped<div class="help">{}</div>', run.skip_reason)
        if run.stalled_since is not None:
            return format_html(
                '{}<div class="help" style="color: #c62828; font-weight: 600">{}</div>',
                run.get_status_display(),
                run_stall_text(run, timezone.now()),
            )
        return run.get_status_display()

    @admin.display(description="took to send")
    def took(self, run: CampaignRun) -> str:
        return duration_text(run.duration) if run.duration is not None else "—"

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        # Filtered on one campaign: its missed slots, which have no row to list.
        context = dict(extra_context or {})
        chosen = request.GET.get("campaign__id__exact", "")
        campaign = (
            Campaign.objects.filter(pk=int(chosen)).first()
            if chosen.isdigit()
            else None
        )
        if campaign is not None:
            context.update(
                pace=campaign_pace(campaign=campaign), pace_campaign=campaign
            )
        return super().changelist_view(request, context)

    def get_changelist_instance(self, request: HttpRequest) -> Any:
        changelist = super().get_changelist_instance(request)
        # The page's runs counted at once (live for small runs, stored for big
        # ones), not a count over millions of messages per row.
        counts = run_counts(list(changelist.result_list))
        for run in changelist.result_list:
            run.shown_counts = counts[run.pk]
        return changelist

    @staticmethod
    def _count(run: CampaignRun, *statuses: str) -> int:
        # Set on every row of the list; empty for a run that sent nothing (a
        # skipped run), which must not be counted again, a query a column.
        counts = getattr(run, "shown_counts", None)
        if counts is None:
            counts = run_counts([run])[run.pk]
        return sum(counts[status] for status in statuses)

    @admin.display(description="waiting")
    def queued(self, run: CampaignRun) -> int:
        return self._count(run, "queued", "deferred", "sending")

    @admin.display(description="sent")
    def sent(self, run: CampaignRun) -> int:
        return self._count(run, "sent", "delivered")

    @admin.display(description="failed")
    def failed(self, run: CampaignRun) -> int:
        return self._count(run, "failed")

    @admin.display(description="skipped")
    def skipped_count(self, run: CampaignRun) -> int:
        return self._count(run, "skipped")
