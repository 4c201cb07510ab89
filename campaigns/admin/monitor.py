"""The campaign page's monitor: its messages by status, a chart of sends per run, and
its newest runs' progress."""

from typing import Any

from django.template.loader import render_to_string
from django.utils import timezone

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
