"""Filters the messages list takes from campaigns (registered in
CampaignsConfig.ready(): messaging cannot name campaigns). Each maps what campaigns
own to the batches of its runs, which the messages' (batch, status) index finds;
their choices come from the campaigns and runs tables, never from the messages."""

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from messaging.models import Message

from .models import Campaign, CampaignRun

CHOICES = 30  # the newest; the chosen one is always offered


def _chosen(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


class CampaignFilter(admin.SimpleListFilter):
    title = "campaign"
    parameter_name = "campaign"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        rows = list(
            Campaign.objects.order_by("-id").values_list("pk", "name")[:CHOICES]
        )
        chosen = _chosen(self.value())
        if chosen is not None and all(pk != chosen for pk, _ in rows):
            rows += list(Campaign.objects.filter(pk=chosen).values_list("pk", "name"))
        return [(str(pk), name) for pk, name in rows]

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[Message]
    ) -> QuerySet[Message]:
        if self.value() is None:
            return queryset
        chosen = _chosen(self.value())
        if chosen is None:
            return queryset.none()
        batches = CampaignRun.objects.filter(
            campaign_id=chosen, cohort__isnull=False
        ).values_list("cohort__batch_id", flat=True)
        return queryset.filter(batch_id__in=list(batches))


class RunFilter(admin.SimpleListFilter):
    """The runs of the chosen campaign, or the newest runs of any."""

    title = "run"
    parameter_name = "run"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        runs = CampaignRun.objects.select_related("campaign").order_by("-id")
        campaign = _chosen(request.GET.get(CampaignFilter.parameter_name))
        if campaign is not None:
            runs = runs.filter(campaign_id=campaign)
        shown = list(runs[:CHOICES])
        chosen = _chosen(self.value())
        if chosen is not None and all(run.pk != chosen for run in shown):
            shown += list(
                CampaignRun.objects.select_related("campaign").filter(pk=chosen)
            )
        return [(str(run.pk), str(run)) for run in shown]

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[Message]
    ) -> QuerySet[Message]:
        if self.value() is None:
            return queryset
        chosen = _chosen(self.value())
        if chosen is None:
            return queryset.none()
        batch = (
            CampaignRun.objects.filter(pk=chosen)
            .values_list("cohort__batch_id", flat=True)
            .first()
        )
        return queryset.filter(batch_id=batch) if batch else queryset.none()
