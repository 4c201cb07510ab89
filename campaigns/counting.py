"""Run-level counts: each run's messages by status, kept on the run.

Counting a small run's rows costs nothing; a minute plan on a big group writes
millions of them. So reports count small runs live and read big runs' stored counts,
which a beat task refreshes: every pass while the run sends, and every few minutes
for two days after, while delivery receipts still come in.
"""

import datetime as dt
from collections import Counter
from collections.abc import Iterable

from django.db.models import BooleanField, Case, Count, ExpressionWrapper, F, Q, When
from django.utils import timezone

from messaging.models import Message, shown_status

from .models import CampaignRun

# Runs with at most this many messages are counted live, whatever their state.
LIVE_LIMIT = 20_000
RECENT = dt.timedelta(days=2)
RECOUNT_RECENT_EVERY = dt.timedelta(minutes=5)

# Claimed or not, per row: what shown_status needs to tell "sending".
HELD = ExpressionWrapper(Q(claim_token__isnull=False), output_field=BooleanField())
HELD_MESSAGE = ExpressionWrapper(
    Q(cohort__batch__messages__claim_token__isnull=False), output_field=BooleanField()
)


def live_counts(run_ids: Iterable[int]) -> dict[int, Counter[str]]:
    """The runs' messages by status, counted now, in one grouped query."""
    found: dict[int, Counter[str]] = {run_id: Counter() for run_id in run_ids}
    if not found:
        return found
    batches = dict(
        CampaignRun.objects.filter(
            pk__in=list(found), cohort__isnull=False
        ).values_list("cohort__batch_id", "pk")
    )
    rows = (
        Message.objects.filter(batch_id__in=list(batches))
        .annotate(held=HELD)
        .values_list("batch_id", "status", "held")
        .annotate(n=Count("id"))
        .order_by()
    )
    for batch_id, status, held, n in rows:
        found[batches[batch_id]][shown_status(status, held)] += n
    return found


def counted_live() -> Q:
    """The runs counted live: small runs still sending, and runs never counted; the
    rest (final counts are stored when a run is done) read their stored counts."""
    return Q(counted_at__isnull=True) | Q(
        status=CampaignRun.Status.RUNNING, messages_created__lte=LIVE_LIMIT
    )


def run_counts(runs: list[CampaignRun]) -> dict[int, Counter[str]]:
    """Messages by status for each run: live for the runs counted live, else as
    stored; in one query, however many runs and whichever are live."""
    if not runs:
        return {}
    # Which runs are counted live is decided by the query that counts them: a run
    # done since it was read is not counted as sending nothing.
    rows = (
        CampaignRun.objects.filter(pk__in=[run.pk for run in runs])
        .filter(counted_live())
        .annotate(held=HELD_MESSAGE)
        .values_list("pk", "cohort__batch__messages__status", "held")
        .annotate(n=Count("cohort__batch__messages"))
        .order_by()
    )
    live: dict[int, Counter[str]] = {}
    for run_id, status, held, n in rows:
        counts = live.setdefault(run_id, Counter())
        if n:
            counts[shown_status(status, held)] += n
    return {run.pk: live.get(run.pk, Counter(run.counts)) for run in runs}


def runs_recount(*, now: dt.datetime | None = None, limit: int = 100) -> int:
    """Store fresh counts on the runs that need them; return how many."""
    now = now or timezone.now()
    due = list(
        CampaignRun.objects.filter(
            Q(status=CampaignRun.Status.RUNNING)
            | Q(counted_at__isnull=True)
            | Q(
                scheduled_for__gte=now - RECENT,
                counted_at__lt=now - RECOUNT_RECENT_EVERY,
            )
        )
        # A skipped run never has messages: counted once, it is done.
        .exclude(status=CampaignRun.Status.SKIPPED, counted_at__isnull=False)
        # Running runs first (the monitor of a run sending is watched), then the
        # longest uncounted: a minute plan makes more recent runs than one pass takes.
        .order_by(
            Case(When(status=CampaignRun.Status.RUNNING, then=0), default=1),
            F("counted_at").asc(nulls_first=True),
        )
        .values_list("pk", flat=True)[:limit]
    )
    for run_id in due:
        run_store_counts(run_id=run_id, now=now)
    return len(due)


def run_store_counts(*, run_id: int, now: dt.datetime | None = None) -> Counter[str]:
    counts = live_counts([run_id])[run_id]
    CampaignRun.objects.filter(pk=run_id).update(
        counts=dict(counts), counted_at=now or timezone.now()
    )
    return counts


def runs_store_counts(
    *, run_ids: list[int], now: dt.datetime
) -> dict[int, Counter[str]]:
    """Count the runs now, in one query, and store the counts on them."""
    counted = live_counts(run_ids)
    for run_id, counts in counted.items():
        CampaignRun.objects.filter(pk=run_id).update(
            counts=dict(counts), counted_at=now
        )
    return counted


def pruned_counts(runs: list[CampaignRun]) -> dict[int, Counter[str]]:
    """Each run's messages deleted after the retention period, by status (kept on
    its batch), in one query."""
    found: dict[int, Counter[str]] = {run.pk: Counter() for run in runs}
    rows = CampaignRun.objects.filter(
        pk__in=list(found), cohort__isnull=False
    ).values_list("pk", "cohort__batch__pruned_counts")
    for run_id, counts in rows:
        found[run_id].update(counts or {})
    return found
