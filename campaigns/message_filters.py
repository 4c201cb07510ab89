"""Filters the messages list takes from campaigns (registered in
CampaignsConfig.ready(): messaging cannot name campaigns). Each maps what campaigns
own to the batches of its runs, bounded by where their messages lie along the
primary key (messaging.batch_span); their choices come from the campaigns and runs
tables, never from the messages."""

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from flows.channels import versions_send_channels
from messaging.batch_span import batches_narrow
from messaging.models import Message

from .models import Campaign, CampaignRun

CHOICES = 30  # the newest; the chosen one is always offered


def _chosen(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def _narrow(
    request: HttpRequest, queryset: QuerySet[Message], runs: QuerySet[CampaignRun]
) -> QuerySet[Message]:
    """``queryset``'s messages of ``runs``. With a channel chosen too that none of
    their flow versions sends on, none, said without reading them: their messages
    go out on their versions' send steps' channels only, and looking for another
    would read every message of a big run (a million rows) to find nothing."""
    rows = list(
        runs.filter(cohort__isnull=False).values_list(
            "cohort__batch_id", "flow_version_id"
        )
    )
    channel = _chosen(request.GET.get("channel"))
    if channel is not None and channel not in versions_send_channels(
        version for _, version in rows
    ):
        return queryset.none()
    return batches_narrow(queryset, [batch for batch, _ in rows], channel)


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
        return _narrow(
            request, queryset, CampaignRun.objects.filter(campaign_id=chosen)
        )


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
        return _narrow(request, queryset, CampaignRun.objects.filter(pk=chosen))
