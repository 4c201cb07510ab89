"""Monitoring: message counts per campaign and per run, and a chart of sends per run
over time, drawn as inline SVG on the campaign page."""

from collections import Counter
from dataclasses import dataclass, field

from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from .counting import pruned_counts, run_counts
from .models import Campaign, CampaignRun

# Statuses in the order an operator reads them, with their colours.
STATUSES = [
    ("queued", "Queued", "#90a4ae"),
    ("deferred", "Deferred", "#ffb300"),
    ("sending", "Sending", "#42a5f5"),
    ("sent", "Sent", "#43a047"),
    ("delivered", "Delivered", "#1b5e20"),
    ("failed", "Failed", "#e53935"),
    ("skipped", "Skipped (opted out)", "#8d6e63"),
    ("cancelled", "Cancelled", "#616161"),
]
DONE = {"sent", "delivered", "failed", "skipped", "cancelled"}
CHART_RUNS = 30


# The run table's columns: a label and the statuses it adds up.
COLUMNS = [
    ("To send", ("queued", "deferred", "sending")),
    ("Sent", ("sent", "delivered")),
    ("Failed", ("failed",)),
    ("Skipped", ("skipped",)),
    ("Cancelled", ("cancelled",)),
]


@dataclass
class RunCounts:
    run: CampaignRun
    counts: Counter[str] = field(default_factory=Counter)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def done(self) -> int:
        return sum(n for status, n in self.counts.items() if status in DONE)

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 100

    @property
    def in_flight(self) -> bool:
        return self.done < self.total

    @property
    def held(self) -> bool:
        """All that is left waits for a channel's active hours."""
        return self.in_flight and self.counts["deferred"] == self.total - self.done


def counts_by_run(runs: list[CampaignRun]) -> list[RunCounts]:
    """Message counts by status for each run (live or stored: campaigns.counting)."""
    found, pruned = run_counts(runs), pruned_counts(runs)
    return [RunCounts(run, found[run.pk] + pruned[run.pk]) for run in runs]


@dataclass
class CampaignRuns:
    """A campaign's newest runs with their counts, and its counts over every run."""

    newest: list[RunCounts]
    totals: Counter[str]
    run_count: int


def campaign_runs_counted(*, campaign: Campaign, newest: int) -> CampaignRuns:
    """The campaign's ``newest`` runs, newest first, with their counts, and the
    totals over all its runs, in two queries however many runs it has."""
    runs = list(CampaignRun.objects.filter(campaign=campaign))
    every = counts_by_run(runs)
    return CampaignRuns(
        newest=every[:newest],
        totals=sum((row.counts for row in every), Counter()),
        run_count=len(runs),
    )


def campaign_counts(campaign: Campaign) -> Counter[str]:
    """All the campaign's messages by status: its runs' counts added up."""
    runs = list(
        CampaignRun.objects.filter(campaign=campaign).only(
            "pk", "status", "messages_created", "counted_at", "counts"
        )
    )
    counts: Counter[str] = Counter()
    for run_total in run_counts(runs).values():
        counts.update(run_total)
    for pruned in pruned_counts(runs).values():
        counts.update(pruned)
    return counts


def sends_chart(runs: list[RunCounts]) -> SafeString:
    """Stacked bars, one per run (oldest left): sent and delivered, failed, skipped,
    still to send."""
    if not runs:
        return mark_safe('<p class="help">No runs yet: the chart fills as it runs.</p>')
    runs = list(reversed(runs[:CHART_RUNS]))
    width, height, left, bottom = 760, 220, 44, 34
    plot_w, plot_h = width - left - 10, height - bottom - 12
    peak = max((r.total for r in runs), default=0) or 1
    bar = min(plot_w / len(runs), 48)
    layers = [
        ("sent", lambda c: c["sent"] + c["delivered"], "#43a047"),
        ("failed", lambda c: c["failed"], "#e53935"),
        ("skipped", lambda c: c["skipped"] + c["cancelled"], "#8d6e63"),
        ("to send", lambda c: c["queued"] + c["deferred"] + c["sending"], "#90a4ae"),
    ]
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" class="sends-chart" '
        'font-family="sans-serif" font-size="11" aria-label="Messages per run">',
        f'<line x1="{left}" y1="{12 + plot_h}" x2="{width - 10}" y2="{12 + plot_h}" '
        'stroke="#999"/>',
        f'<text x="{left - 6}" y="16" text-anchor="end">{peak:,}</text>',
        f'<text x="{left - 6}" y="{12 + plot_h}" text-anchor="end">0</text>',
    ]
    for index, run in enumerate(runs):
        x = left + index * bar + bar * 0.15
        y = 12 + plot_h
        when = timezone.localtime(run.run.scheduled_for).strftime("%Y-%m-%d %H:%M")
        for _, value, colour in layers:
            count = value(run.counts)
            if not count:
                continue
            h = plot_h * count / peak
            y -= h
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar * 0.7:.1f}" '
                f'height="{h:.1f}" fill="{colour}"><title>'
                f"{escape(when)}: "
                f"{count:,}</title></rect>"
            )
        if len(runs) <= 8 or index % max(len(runs) // 6, 1) == 0:
            label = timezone.localtime(run.run.scheduled_for).strftime("%d %H:%M")
            parts.append(
                f'<text x="{x + bar * 0.35:.1f}" y="{height - 14}" '
                f'text-anchor="middle">{escape(label)}</text>'
            )
    legend_x = left
    for name, _, colour in layers:
        parts.append(
            f'<rect x="{legend_x}" y="{height - 9}" width="9" height="9" '
            f'fill="{colour}"/><text x="{legend_x + 13}" y="{height - 1}">'
            f"{escape(name)}</text>"
        )
        legend_x += 90
    parts.append("</svg>")
    return mark_safe("".join(parts))
