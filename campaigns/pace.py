"""Whether a campaign's runs fit its plan: how long its runs take against the plan's
period, the slots skipped because a run was still sending, and the slots missed
because no tick ran for them (a tick that expired while the workers were busy, or
beat not running). Read set-wise from the campaign's runs; the campaign page shows
it, and the campaign form warns at save when the group cannot go out in one period.
"""

import datetime as dt
import statistics
from collections import Counter
from dataclasses import dataclass, field

from django.core.exceptions import ImproperlyConfigured
from django.db.models import Exists, OuterRef
from django.utils import timezone

from flows.graph import SEND
from messaging.backends import get_backend
from messaging.gate import max_in_flight
from messaging.models import Channel, Message
from messaging.outbox import UNSENT

from .models import Campaign, CampaignEvent, CampaignRun, CampaignStatus, Schedule
from .scheduling import next_slot
from .targeting import campaign_audience

# The period of each repeating plan (a daily plan's day is 23 or 25 hours across a
# DST change; its slots are counted by date, its period here is only compared).
PERIODS = {
    Schedule.MINUTE: dt.timedelta(minutes=1),
    Schedule.HOURLY: dt.timedelta(hours=1),
    Schedule.DAILY: dt.timedelta(days=1),
}
PLAN_WORDS = {
    Schedule.MINUTE: "every minute",
    Schedule.HOURLY: "every hour",
    Schedule.DAILY: "every day",
}

# How long runs take is read from this many of the newest finished runs.
RECENT_RUNS = 10
# Missed slots are listed one by one among this many of the newest slots; older
# ones are only counted.
LOOK_BACK_SLOTS = 500
MISSED_LISTED = 20

# A channel without a rate sends as fast as its provider answers: one message at a
# time per worker process for most backends (assume about 10 ms each), or, for those
# keeping many in flight (HTTP providers, SMTP), the channel's max_in_flight at once,
# each answered in about PROVIDER_LATENCY seconds.
ASSUMED_RATE = 100
PROVIDER_LATENCY = 0.1


def assumed_rate(channel: Channel) -> int:
    """Messages per second a channel without a rate is assumed to send."""
    try:
        concurrent = get_backend(channel.kind).concurrent
    except ImproperlyConfigured:
        concurrent = False
    if not concurrent:
        return ASSUMED_RATE
    return round(max_in_flight(channel) / PROVIDER_LATENCY)


def duration_text(span: dt.timedelta) -> str:
    """A span as an operator reads it, rounded: "45 s", "4 min", "2 h 10 min"."""
    seconds = round(span.total_seconds())
    if seconds < 90:
        return f"{seconds} s"
    minutes = round(seconds / 60)
    if minutes < 90:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} days {hours} h" if hours else f"{days} days"


def _plural(count: int, word: str) -> str:
    return f"{count:,} {word}{'' if count == 1 else 's'}"


@dataclass
class Pace:
    """How a repeating campaign's runs keep up with its plan, since its start."""

    plan: str  # "every minute"
    period: dt.timedelta
    typical_run: dt.timedelta | None  # the median of the newest finished runs
    runs_timed: int  # how many finished runs typical_run is read from
    sending_for: dt.timedelta | None  # the run still sending, for how long so far
    skipped: int  # slots whose run was skipped, a run still sending
    missed: int  # slots past with no run at all: no tick ran
    missed_slots: list[dt.datetime] = field(default_factory=list)  # newest first

    @property
    def slow(self) -> bool:
        """Runs take longer than the plan's period."""
        longest = max(
            (s for s in (self.typical_run, self.sending_for) if s is not None),
            default=None,
        )
        return longest is not None and longest > self.period

    @property
    def title(self) -> str:
        """The notice's heading."""
        if self.slow or self.skipped:
            return "Runs do not fit the plan"
        return "Slots missed" if self.missed else ""

    @property
    def notice(self) -> str:
        """What the campaign page says of it, or "" when the runs fit the plan."""
        facts = []
        if self.typical_run is not None and self.typical_run > self.period:
            facts.append(
                f"Runs take about {duration_text(self.typical_run)}; "
                f"the plan is {self.plan}"
            )
        elif self.sending_for is not None and self.sending_for > self.period:
            facts.append(
                "The current run has been sending for "
                f"{duration_text(self.sending_for)}; the plan is {self.plan}"
            )
        if self.skipped:
            facts.append(f"{_plural(self.skipped, 'slot')} skipped")
        if self.missed:
            facts.append(
                f"{_plural(self.missed, 'slot')} missed (no tick ran for them)"
            )
        if not facts:
            return ""
        advice = []
        if self.slow or self.skipped:
            advice.append(
                "A slot that comes while the previous run is still sending is "
                "skipped: the group does not get that run. A longer plan, a smaller "
                "group or a faster channel (its rate per second) lets runs fit."
            )
        if self.missed:
            advice.append(
                "A missed slot's tick expired before a worker took it (workers busy "
                "or stopped) or beat was not running."
            )
        return "; ".join(facts) + ". " + " ".join(advice)


def _stop_of(campaign: Campaign, now: dt.datetime) -> dt.datetime:
    """Until when the campaign should have run: now, its end, or the moment it was
    suspended or ended."""
    stop = min(now, campaign.end_at)
    if campaign.status in (CampaignStatus.SUSPENDED, CampaignStatus.ENDED):
        at = (
            CampaignEvent.objects.filter(campaign=campaign, to_status=campaign.status)
            .exclude(from_status=campaign.status)
            .values_list("at", flat=True)
            .first()  # newest first
        )
        if at is not None:
            stop = min(stop, at)
    return stop


def _past_slots(
    campaign: Campaign, stop: dt.datetime
) -> tuple[int, dt.datetime | None, list[dt.datetime]]:
    """The slots from the campaign's start whose whole period is over by ``stop``:
    how many, the first, and the newest LOOK_BACK_SLOTS of them, newest first."""
    period = PERIODS[Schedule(campaign.schedule)]
    start = campaign.start_at
    if campaign.schedule == Schedule.MINUTE:
        first = start.astimezone(dt.UTC).replace(second=0, microsecond=0)
        if first < start:
            first += period
    else:
        first = start
    if campaign.schedule != Schedule.DAILY:
        count = max((stop - first) // period, 0)
        newest = [
            first + (count - 1 - back) * period
            for back in range(min(count, LOOK_BACK_SLOTS))
        ]
        return count, first, newest
    # Days by the local date (scheduling.slot_for): a few hundred at most.
    slots: list[dt.datetime] = []
    slot: dt.datetime | None = first
    while slot is not None:
        after = next_slot(campaign, slot)
        ends = after if after is not None else slot + period
        if ends > stop:
            break
        slots.append(slot)
        slot = after
    return len(slots), first, slots[::-1][:LOOK_BACK_SLOTS]


def campaign_pace(*, campaign: Campaign, now: dt.datetime | None = None) -> Pace | None:
    """How the campaign's runs keep up with its plan; None for a bulk message (one
    run, no period). A run's time is from its start to its last message sent
    (CampaignRun.finished_at), waits of the flow included."""
    if campaign.schedule not in PERIODS:
        return None
    now = now or timezone.now()
    schedule = Schedule(campaign.schedule)
    runs = CampaignRun.objects.filter(campaign=campaign)
    timed = [
        run.duration
        for run in runs.filter(
            status=CampaignRun.Status.DONE, finished_at__isnull=False
        ).only("started_at", "finished_at")[:RECENT_RUNS]
    ]
    durations = [span for span in timed if span is not None]
    sending_for = None
    # The newest run, if it still has messages to send (not if its journeys only
    # wait on the flow), in one query whatever the answer.
    current = (
        runs.filter(status=CampaignRun.Status.RUNNING, cohort__isnull=False)
        .annotate(
            unsent=Exists(
                Message.objects.filter(
                    batch_id=OuterRef("cohort__batch_id"), status__in=UNSENT
                )
            )
        )
        .values_list("started_at", "unsent")
        .first()
    )
    if current is not None and current[1]:
        sending_for = now - current[0]
    since = runs.filter(scheduled_for__gte=campaign.start_at)
    skipped = since.filter(status=CampaignRun.Status.SKIPPED).count()
    count, first, newest = _past_slots(campaign, _stop_of(campaign, now))
    missed, missed_slots = 0, []
    if count and first is not None and newest:
        had_run = since.filter(scheduled_for__lte=newest[0]).count()
        missed = max(count - had_run, 0)
        known = set(
            since.filter(
                scheduled_for__gte=newest[-1], scheduled_for__lte=newest[0]
            ).values_list("scheduled_for", flat=True)
        )
        missed_slots = [slot for slot in newest if slot not in known][:MISSED_LISTED]
    return Pace(
        plan=PLAN_WORDS[schedule],
        period=PERIODS[schedule],
        typical_run=dt.timedelta(
            seconds=statistics.median(span.total_seconds() for span in durations)
        )
        if durations
        else None,
        runs_timed=len(durations),
        sending_for=sending_for,
        skipped=skipped,
        missed=missed,
        missed_slots=missed_slots,
    )


@dataclass
class RunEstimate:
    """How long one run of a campaign should take, from its group's size and its
    slowest channel's rate."""

    contacts: int
    channel: str
    messages_each: int  # the flow's send steps on that channel
    rate: int  # messages per second
    rate_assumed: bool  # the channel has no rate: ASSUMED_RATE
    takes: dt.timedelta
    plan: str
    period: dt.timedelta

    @property
    def warning(self) -> str:
        """What the form says at save, or "" when a run fits in the plan's period."""
        if self.takes <= self.period:
            return ""
        each = f"{self.messages_each} messages each, " if self.messages_each > 1 else ""
        rate = f"{self.rate:,} messages/s"
        if self.rate_assumed:
            rate = (
                f"about {rate} (channel {self.channel!r} has no rate set; assumed "
                "from how many messages it keeps in flight and a provider answering "
                "in about 100 ms)"
            )
        else:
            rate += f" (channel {self.channel!r})"
        return (
            f"It goes to {self.contacts:,} contacts; at {each}{rate} a run takes "
            f"about {duration_text(self.takes)}, longer than the plan's period "
            f"({self.plan}): slots will be skipped while the previous run is still "
            "sending. A longer plan, a smaller group or a higher rate lets runs fit."
        )


def campaign_run_estimate(*, campaign: Campaign) -> RunEstimate | None:
    """The time one run of ``campaign`` should take: its group's contacts not opted
    out, times the flow's send steps on each channel, at that channel's rate
    (assumed_rate where it has none); the slowest channel sets the time. Every send
    step counts, as if no branch left any out. None for a bulk message or a flow
    that sends nothing."""
    if campaign.schedule not in PERIODS or campaign.flow_version is None:
        return None
    per_channel = Counter(
        step.get("channel_id")
        for step in campaign.flow_version.steps
        if step.get("kind") == SEND and step.get("channel_id") is not None
    )
    channels = Channel.objects.filter(pk__in=list(per_channel))
    if not per_channel or not channels:
        return None
    contacts = campaign_audience(campaign).reachable().count()
    schedule = Schedule(campaign.schedule)
    estimates = []
    for channel in channels:
        rate = channel.rate_per_second or assumed_rate(channel)
        messages = per_channel[channel.pk]
        estimates.append(
            RunEstimate(
                contacts=contacts,
                channel=channel.name,
                messages_each=messages,
                rate=rate,
                rate_assumed=not channel.rate_per_second,
                takes=dt.timedelta(seconds=contacts * messages / rate),
                plan=PLAN_WORDS[schedule],
                period=PERIODS[schedule],
            )
        )
    return max(estimates, key=lambda estimate: estimate.takes)
