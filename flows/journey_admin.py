"""The journeys list: where each contact is on a flow, read-only."""

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from audiences.phones import contact_search
from config.paginators import CappedPaginator
from config.records_admin import RecordAdmin

from .models import FlowStep, Journey


@admin.register(Journey)
class JourneyAdmin(RecordAdmin):
    paginator = CappedPaginator  # millions of rows: never counted in full
    list_display = ["contact", "flow", "started_by", "at_step", "status", "due_at"]
    list_filter = ["status", "awaiting_reply", "flow"]
    list_select_related = ["contact", "flow", "flow_version", "cohort__batch"]
    raw_id_fields = ["contact", "cohort", "flow", "flow_version"]
    search_fields = ["contact__phone"]  # looked up exactly: get_search_results
    search_help_text = "A phone number: that contact's journeys."
    show_full_result_count = False
    # Sorting millions of rows by another column reads them all.
    sortable_by = ()
    readonly_fields = [f.name for f in Journey._meta.fields]

    def get_ordering(self, request: HttpRequest) -> list[str]:
        if request.GET.get("flow__id__exact"):
            # A flow's journeys, those on it first, then by status, newest first: the
            # order of its index. Newest first alone would walk the other flows'
            # journeys, millions of them, to find a big old flow's.
            return ["status", "-id"]
        return ["-id"]

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Journey], search_term: str
    ) -> tuple[QuerySet[Journey], bool]:
        return contact_search(queryset, search_term), False

    @admin.display(description="started by", ordering="cohort__batch__name")
    def started_by(self, journey: Journey) -> str:
        if journey.entry_key:
            return journey.entry_key.split(":", 1)[0]
        return journey.cohort.batch.name

    @admin.display(description="step")
    def at_step(self, journey: Journey) -> str:
        for step in journey.flow_version.steps:
            if step["position"] == journey.step:
                kind = dict(FlowStep.Kind.choices).get(step["kind"], step["kind"])
                waiting = " (waiting)" if journey.awaiting_reply else ""
                return f"{journey.step} · {kind}{waiting}"
        return str(journey.step)
