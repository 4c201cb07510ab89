"""What the admin index shows first: selectors, no writes."""

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from typing import Any

from django.db.models import OuterRef, Subquery
from django.utils import timezone

from audiences.models import ImportJob
from base.heartbeat import heartbeats
from campaigns.counting import run_counts
from campaigns.models import Campaign, CampaignRun
from campaigns.monitoring import RunCounts, counts_by_run
from campaigns.scheduling import next_slot
from campaigns.stalls import run_stall_text, runs_stalled, stall_checks

SHOWN = 10


@dataclass
class CampaignProgress:
    campaign: Campaign
    latest: RunCounts | None


@dataclass
class StalledRun:
    run: CampaignRun
    text: str


@dataclass
class NextRun:
    campaign: Campaign
    at: dt.datetime


def campaigns_in_progress() -> tuple[list[CampaignProgress], int]:
    """Campaigns in progress (the first few) with their latest run's counts, and how
    many there are in all."""
    in_progress = Campaign.objects.filter(status=Campaign.Status.IN_PROGRESS)
    latest_run = (
        CampaignRun.objects.filter(campaign=OuterRef("pk"))
        .order_by("-scheduled_for")
        .values("pk")[:1]
    )
    campaigns = list(
        in_progress.select_related("flow", "group")
        .annotate(latest_run=Subquery(latest_run))
        .order_by("end_at")[:SHOWN]
    )
    latest_ids = [
        c.latest_run  # type: ignore[attr-defined]  # the annotation above
        for c in campaigns
        if c.latest_run is not None  # type: ignore[attr-defined]
    ]
    runs = CampaignRun.objects.filter(pk__in=latest_ids).select_related("campaign")
    by_campaign = {
        counts.run.campaign_id: counts for counts in counts_by_run(list(runs))
    }
    return (
        [
            CampaignProgress(campaign, by_campaign.get(campaign.pk))
            for campaign in campaigns
        ],
        in_progress.count(),
    )


def next_runs(now: dt.datetime) -> list[NextRun]:
    """The next runs due, soonest first, of campaigns that may still run."""
    upcoming = []
    for campaign in Campaign.objects.filter(
        status__in=(Campaign.Status.PENDING, Campaign.Status.IN_PROGRESS),
        end_at__gt=now,
    ).order_by("start_at")[:200]:
        at = next_slot(campaign, now)
        if at is not None:
            upcoming.append(NextRun(campaign, at))
    return sorted(upcoming, key=lambda run: run.at)[:SHOWN]


def messages_today(now: dt.datetime) -> dict[str, int]:
    """Messages of today's runs (since local midnight), by what became of them."""
    midnight = timezone.localtime(now).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    runs = list(CampaignRun.objects.filter(scheduled_for__gte=midnight))
    totals: Counter[str] = Counter()
    for counts in run_counts(runs).values():
        totals.update(counts)
    return {
        "sent": totals["sent"] + totals["delivered"],
        "failed": totals["failed"],
        "waiting": totals["queued"] + totals["deferred"] + totals["sending"],
    }


def stalled_runs(now: dt.datetime) -> list[StalledRun]:
    """The runs not moving (campaigns.stalls), longest stalled first."""
    return [StalledRun(run, run_stall_text(run, now)) for run in runs_stalled()[:SHOWN]]


def imports_running() -> list[ImportJob]:
    active = (
        ImportJob.Status.QUEUED,
        ImportJob.Status.ANALYSING,
        ImportJob.Status.READY,
        ImportJob.Status.APPLYING,
    )
    return list(
        ImportJob.objects.filter(status__in=active)
        .select_related("group")
        .order_by("-id")[:SHOWN]
    )


def dashboard(now: dt.datetime | None = None) -> dict[str, Any]:
    now = now or timezone.now()
    progress, in_progress_count = campaigns_in_progress()
    stalled = stalled_runs(now)
    return {
        "stalled": stalled,
        "stall_checks": stall_checks(now) if stalled else "",
        "in_progress": progress,
        "in_progress_count": in_progress_count,
        "next_runs": next_runs(now),
        "today": messages_today(now),
        "imports": imports_running(),
        "health": heartbeats(now),
        "now": now,
    }
