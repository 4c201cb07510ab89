"""The campaign page's monitor: its messages by status, a chart of sends per run, and
its newest runs' progress."""

from collections.abc import Callable
from typing import Any

from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import conditional_escape

from base.lazy import lazy_html

from ..models import Campaign
from ..monitoring import COLUMNS, STATUSES, campaign_runs_counted, sends_chart
from ..pace import campaign_pace, duration_text
from ..stalls import run_stall_text, runs_stalled, stall_checks

# Runs shown in the table and the chart; the totals count every run.
MONITOR_RUNS = 20


def monitor_html(campaign: Campaign) -> str:
    """The monitor of a saved campaign; "—" for one not saved yet."""
    if campaign.pk is None:
        return "—"
    counted = campaign_runs_counted(campaign=campaign, newest=MONITOR_RUNS)
    rows, totals = counted.newest, counted.totals
    now = timezone.now()
    runs: list[dict[str, Any]] = [
        {
            "slot": row.run.scheduled_for,
            "run": row.run,
            "total": row.total,
            "done": row.done,
            "percent": row.percent,
            "in_flight": row.in_flight,
            "held": row.held,
            "stall": run_stall_text(row.run, now),
            "cells": [sum(row.counts[key] for key in keys) for _, keys in COLUMNS],
        }
        for row in rows
    ]
    pace = campaign_pace(campaign=campaign)
    if pace is not None:
        # Missed slots have no run: shown among the runs they fall between.
        oldest = (
            rows[-1].run.scheduled_for
            if rows and counted.run_count > len(rows)
            else None
        )
        runs += [
            {"slot": slot, "missed": True}
            for slot in pace.missed_slots
            if oldest is None or slot > oldest
        ]
        runs.sort(key=lambda row: row["slot"], reverse=True)
    return render_to_string(
        "admin/campaigns/campaign/monitor.html",
        {
            "campaign": campaign,
            "totals": [
                {"label": label, "colour": colour, "count": f"{totals[key]:,}"}
                for key, label, colour in STATUSES
            ],
            "columns": [label for label, _ in COLUMNS],
            "runs": runs,
            "pace": pace,
            "typical_run": duration_text(pace.typical_run)
            if pace and pace.typical_run
            else "",
            "chart": sends_chart(rows),
            "more": counted.run_count > MONITOR_RUNS,
            "run_count": counted.run_count,
            # Watching a run send: only on the read-only page of a campaign in
            # progress (no form input to lose), while a run is not held.
            "refresh": campaign.status == Campaign.Status.IN_PROGRESS
            and any(row.in_flight and not row.held for row in rows),
        },
    )


def stall_context(campaign: Campaign) -> dict[str, Any]:
    """The campaign page's notice of its runs not moving (campaigns.stalls)."""
    now = timezone.now()
    texts = [run_stall_text(run, now) for run in runs_stalled(campaign=campaign)]
    return {"stall_notices": texts, "stall_checks": stall_checks(now)} if texts else {}


class LazyPartsMixin:
    """A campaign page's parts that count its audience or its messages, each at its
    own address (…/<id>/monitor/, …/<id>/audience/), fetched once the page is shown
    (base.lazy): at a million contacts each takes a second or more.

    The admin says what each part shows in ``lazy_parts``."""

    lazy_parts: dict[str, Callable[[Any, Campaign], str]] = {}

    def get_urls(self) -> list[Any]:
        opts = self.opts  # type: ignore[attr-defined]
        site = self.admin_site  # type: ignore[attr-defined]
        parts = [
            path(
                f"<path:object_id>/{part}/",
                site.admin_view(self._part_view),
                {"part": part},
                name=f"{opts.app_label}_{opts.model_name}_{part}",
            )
            for part in self.lazy_parts
        ]
        return [*parts, *super().get_urls()]  # type: ignore[misc]

    def lazy_slot(self, campaign: Campaign, part: str, waiting: str) -> str:
        opts = self.opts  # type: ignore[attr-defined]
        url = reverse(
            f"admin:{opts.app_label}_{opts.model_name}_{part}", args=[campaign.pk]
        )
        return lazy_html(url, waiting, block=part == "monitor")

    def _part_view(
        self, request: HttpRequest, object_id: str, part: str
    ) -> HttpResponse:
        campaign = self.get_object(request, unquote(object_id))  # type: ignore[attr-defined]
        if campaign is None:
            raise Http404(f"No campaign with id {object_id!r}.")
        if not self.has_view_permission(request, campaign):  # type: ignore[attr-defined]
            raise PermissionDenied
        # Parts are put in the page as HTML: a plain text is escaped here.
        return HttpResponse(conditional_escape(self.lazy_parts[part](self, campaign)))
