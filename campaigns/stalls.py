"""Runs that stop moving: a running run with messages due that has sent nothing for
CAMPAIGNS_STALL_MINUTES is flagged (``stalled_since``), shown on the dashboard and its
campaign's pages, and told to ``stall_listeners`` once; told again when it moves.

Moving is read from the run's stored counts, which campaigns.counting refreshes every
few seconds while it runs (a count older than RECOUNT is redone here, in one query):
its messages done (sent, delivered, failed, skipped, cancelled) changed. No message is
read for a run that moves, nor for one with nothing left to send. What is due is
asked of messaging only for the runs quiet for the whole period, through the batch's
unsent rows.

Not stalled:
- a run whose unsent messages all wait for their active hours (deferred): its clock
  starts when the first of them falls due. Messages waiting for a retry, or for a
  provider that asked to be left alone (429, Retry-After), are due: a run held back
  by them is not moving;
- a run with nothing to send (its journeys wait in the flow): its clock restarts at
  every check;
- a run of a suspended campaign (the operator paused it), a run done or cancelled:
  a flag they carried is cleared, and the stall told over.
"""

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from base.heartbeat import heartbeats
from messaging.progress import batches_due

from .counting import runs_store_counts
from .models import Campaign, CampaignRun
from .monitoring import DONE

logger = logging.getLogger(__name__)

# Messages due are counted up to this many (shown as "more than").
DUE_CAP = 100_000
# Stored counts older than this are redone before they are read.
RECOUNT = dt.timedelta(minutes=1)
UNSENT = ("queued", "deferred", "sending")

# The runs watched: running, with messages, of a campaign in progress.
WATCHED = Q(
    status=CampaignRun.Status.RUNNING,
    cohort__isnull=False,
    campaign__status=Campaign.Status.IN_PROGRESS,
)


@dataclass(frozen=True)
class StallNews:
    """A run stopped moving ("stalled"), or a stall ended ("recovered": it moved,
    or it is no longer watched, as ``reason`` says)."""

    kind: Literal["stalled", "recovered"]
    run_id: int
    campaign_id: int
    campaign_name: str
    scheduled_for: dt.datetime
    since: dt.datetime
    due: int
    at: dt.datetime
    reason: str = ""

    @property
    def headline(self) -> str:
        if self.kind == "stalled":
            return stall_headline(self.scheduled_for, self.since, self.due, self.at)
        label = run_label(self.scheduled_for, self.at)
        return f"{label} is no longer stuck: {self.reason}"


# Told of every stall and its end (issue 17's event stream, campaigns.stall_alerts'
# mail), filled in CampaignsConfig.ready(). A listener that raises on a stall has it
# told again (to every listener) at the next check: listeners must bear a repeat.
stall_listeners: list[Callable[[StallNews], None]] = []


@dataclass
class StallPass:
    watched: int = 0
    stalled: int = 0
    recovered: int = 0


def runs_check_stalls(*, now: dt.datetime | None = None) -> StallPass:
    """Flag the watched runs that have not moved for CAMPAIGNS_STALL_MINUTES with
    messages due, clear the flags of those that moved or are no longer watched, and
    tell the listeners of both. Idempotent: a stall is told once."""
    now = now or timezone.now()
    quiet_for = dt.timedelta(minutes=settings.CAMPAIGNS_STALL_MINUTES)
    done = StallPass()
    done.recovered += _clear_unwatched(now)
    runs = list(
        CampaignRun.objects.filter(WATCHED).select_related("campaign", "cohort")
    )
    done.watched = len(runs)
    _recount_stale(runs, now)
    idle, quiet = [], []
    for run in runs:
        finished = sum(n for status, n in run.counts.items() if status in DONE)
        unsent = sum(run.counts.get(status, 0) for status in UNSENT)
        if finished != run.progress_mark:
            CampaignRun.objects.filter(pk=run.pk).update(
                progress_mark=finished, progress_at=now
            )
            done.recovered += _clear(run, now, "it is sending again")
        elif not unsent:
            idle.append(run.pk)
            done.recovered += _clear(run, now, "it has nothing left to send")
        elif now - (run.progress_at or run.started_at) >= quiet_for:
            quiet.append(run)
    # Nothing to send: not late for anything, whatever comes next.
    CampaignRun.objects.filter(pk__in=idle).update(progress_at=now)
    due = batches_due(batch_ids=[_batch_id(run) for run in quiet], now=now, cap=DUE_CAP)
    for run in quiet:
        found = due[_batch_id(run)]
        if found.count:
            done.stalled += _flag(run, found.count, now)
            continue
        # All it has waits for its active hours: its clock starts when they open.
        opens = max(found.next_at or now, now)
        CampaignRun.objects.filter(pk=run.pk).update(progress_at=opens)
        waits = f"it waits for its active hours, until {_local(opens)}"
        done.recovered += _clear(run, now, waits)
    return done


def _local(moment: dt.datetime) -> str:
    return f"{timezone.localtime(moment):%Y-%m-%d %H:%M %Z}"


def _batch_id(run: CampaignRun) -> int:
    assert run.cohort is not None  # WATCHED
    return int(run.cohort.batch_id)


def _recount_stale(runs: list[CampaignRun], now: dt.datetime) -> None:
    """Count again, in one query, the runs whose stored counts are too old to say
    whether they moved (the counting task is behind, or not running)."""
    stale = [
        run for run in runs if run.counted_at is None or run.counted_at < now - RECOUNT
    ]
    counted = runs_store_counts(run_ids=[run.pk for run in stale], now=now)
    for run in stale:
        run.counts, run.counted_at = dict(counted[run.pk]), now


def _flag(run: CampaignRun, due: int, now: dt.datetime) -> int:
    """Mark the run stalled (since it last moved), or keep its figure up to date;
    tell the listeners if nobody has been told of this stall. Return 1 if it was
    newly flagged."""
    since = run.progress_at or run.started_at
    due = min(due, DUE_CAP + 1)
    flagged = CampaignRun.objects.filter(pk=run.pk, stalled_since__isnull=True).update(
        stalled_since=since, stall_due=due
    )
    if not flagged:
        CampaignRun.objects.filter(pk=run.pk).update(stall_due=due)
        since = run.stalled_since or since
    news = _news(run, "stalled", since=since, due=due, now=now)
    if flagged:
        logger.warning("campaign run %s: %s", run.pk, news.headline)
    # Told once: whoever sets the mark tells; a failed telling takes it back.
    if CampaignRun.objects.filter(
        pk=run.pk, stalled_since__isnull=False, stall_alerted_at__isnull=True
    ).update(stall_alerted_at=now) and not _tell(news):
        CampaignRun.objects.filter(pk=run.pk, stall_alerted_at=now).update(
            stall_alerted_at=None
        )
    return flagged


def _clear(run: CampaignRun, now: dt.datetime, reason: str) -> int:
    """End the run's stall, if it has one; tell the listeners if they were told of
    it. Return 1 if a stall ended."""
    if run.stalled_since is None:
        return 0
    with transaction.atomic():
        row = (
            CampaignRun.objects.select_for_update()
            .filter(pk=run.pk, stalled_since__isnull=False)
            .values_list("stalled_since", "stall_due", "stall_alerted_at")
            .first()
        )
        if row is None:
            return 0
        CampaignRun.objects.filter(pk=run.pk).update(
            stalled_since=None, stall_due=0, stall_alerted_at=None
        )
    since, due, alerted_at = row
    assert since is not None  # the filter
    news = _news(run, "recovered", since=since, due=due, now=now, reason=reason)
    logger.info("campaign run %s: %s", run.pk, news.headline)
    if alerted_at is not None:
        _tell(news)
    return 1


def _clear_unwatched(now: dt.datetime) -> int:
    """End the stalls of runs no longer watched: done, cancelled, or of a campaign
    suspended or ended."""
    cleared = 0
    for run in (
        CampaignRun.objects.filter(stalled_since__isnull=False)
        .exclude(WATCHED)
        .select_related("campaign")
    ):
        if run.status != CampaignRun.Status.RUNNING:
            reason = f"the run is {run.get_status_display().lower()}"
        else:
            reason = f"the campaign is {run.campaign.get_status_display().lower()}"
        cleared += _clear(run, now, reason)
    return cleared


def _news(
    run: CampaignRun,
    kind: Literal["stalled", "recovered"],
    *,
    since: dt.datetime,
    due: int,
    now: dt.datetime,
    reason: str = "",
) -> StallNews:
    return StallNews(
        kind=kind,
        run_id=run.pk,
        campaign_id=run.campaign_id,
        campaign_name=run.campaign.name,
        scheduled_for=run.scheduled_for,
        since=since,
        due=due,
        at=now,
        reason=reason,
    )


def _tell(news: StallNews) -> bool:
    """Tell every listener; False if one of them failed (logged)."""
    told = True
    for listener in stall_listeners:
        try:
            listener(news)
        except Exception:  # one listener's outage must not silence the others
            logger.exception(
                "stall listener %r failed on run %s", listener, news.run_id
            )
            told = False
    return told


# --- What operators read ------------------------------------------------------------


def minutes_since(since: dt.datetime, now: dt.datetime) -> int:
    return max(int((now - since).total_seconds() // 60), 0)


def run_label(scheduled_for: dt.datetime, now: dt.datetime) -> str:
    """ "Run of 14:00", or with its day when that is not today's."""
    slot, today = timezone.localtime(scheduled_for), timezone.localtime(now)
    when = f"{slot:%H:%M}" if slot.date() == today.date() else f"{slot:%Y-%m-%d %H:%M}"
    return f"Run of {when}"


def due_text(due: int) -> str:
    if due > DUE_CAP:
        return f"more than {DUE_CAP:,} messages due"
    return f"{due:,} message{'' if due == 1 else 's'} due"


def run_stall_text(run: CampaignRun, now: dt.datetime) -> str:
    """ "Run of 14:00 has not moved for 23 min: 1,204 messages due"; "" for a run
    that is not stalled."""
    if run.stalled_since is None:
        return ""
    return stall_headline(run.scheduled_for, run.stalled_since, run.stall_due, now)


def stall_headline(
    scheduled_for: dt.datetime, since: dt.datetime, due: int, now: dt.datetime
) -> str:
    return (
        f"{run_label(scheduled_for, now)} has not moved for "
        f"{minutes_since(since, now)} min: {due_text(due)}"
    )


def stall_checks(now: dt.datetime) -> str:
    """What the operator can check, the background processes first if one is down."""
    for process in heartbeats(now).values():
        if not process["ok"]:
            seen = process["seen_at"]
            last = (
                f"last seen {minutes_since(seen, now)} min ago"
                if seen is not None
                else "never seen"
            )
            return (
                f"The {process['label']} is not running ({last}): nothing is sent "
                "until it is started again (make run starts the worker and beat)."
            )
    return (
        "The worker and beat are running: check that the provider of the run's "
        "channels answers (the run's failed and retried messages, and their "
        "errors), and the channel's settings and credentials."
    )


def runs_stalled(*, campaign: Campaign | None = None) -> list[CampaignRun]:
    """The runs flagged as not moving, longest stalled first."""
    runs = CampaignRun.objects.filter(stalled_since__isnull=False)
    if campaign is not None:
        runs = runs.filter(campaign=campaign)
    return list(runs.select_related("campaign").order_by("stalled_since"))
