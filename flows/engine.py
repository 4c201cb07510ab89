"""The journey engine: moves contacts through a flow version, set-wise.

Every contact on a flow has a journey row that says at which step it is and when it
moves on. Journeys at the same step move together, in SQL: a run of send steps has
messaging write one message per journey and step into the cohort's batch
(INSERT … SELECT), a group step adds them to a static group or takes them out, a
wait sets the time the journeys are due again, a wait for a reply does the same and
marks them waiting (flows.replies moves each on when its reply comes; when none came
in time this module sends them the no-reply way), a branch splits them with one
UPDATE per path (the condition is evaluated by the database), an end closes them.
Only waits hold journeys back, so one pass carries each journey to its next wait or
to its end.

This module is the only writer of Journey.step, status and due_at, with
flows.replies, which moves on a journey whose reply came.
"""

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from audiences.memberships import NotStatic, memberships_add, memberships_remove
from audiences.models import AudienceGroup, Contact
from audiences.rules import RuleError
from messaging.outbox import Written, messages_go_out_at, messages_write
from messaging.queueing import send_range_on_commit

from .channels import FlowNotRunnable, check_channels
from .conditions import branch_q
from .graph import (
    BRANCH,
    END,
    REPLY,
    WAIT,
    Step,
    after_wait,
    by_position,
    first_position,
    segment,
)
from .journey_rows import journeys_insert, journeys_restat
from .models import Cohort, FlowVersion, Journey

logger = logging.getLogger(__name__)

# A journey that has taken this many steps is in a loop nobody meant: stop it.
MAX_HOPS = 1000
# How many due journeys one advance pass takes (each pass is one transaction).
ADVANCE_BATCH = 5000
# A branch can lead to a branch: each pass carries every journey one segment on.
MAX_PASSES = 50


@dataclass
class Moved:
    """What moving the journeys of one cohort wrote."""

    cohort: Cohort
    entered: int = 0
    ended: int = 0
    written: Written = field(default_factory=Written)

    @property
    def messages(self) -> int:
        return self.written.count

    def write(self, journeys: QuerySet[Journey], send: Step, now: dt.datetime) -> None:
        """One message per journey of ``journeys`` for the send step."""
        self.written.add(
            messages_write(
                batch_id=self.cohort.batch_id,
                origins=journeys,
                step=send["id"],
                channel_id=send["channel_id"],
                now=now,
                with_context=self.cohort.for_entries,
            )
        )

    def dispatch(self) -> None:
        """Queue the messages written for sending once the transaction commits."""
        if self.written.low is not None and self.written.high is not None:
            send_range_on_commit(
                batch_id=self.cohort.batch_id,
                low=self.written.low,
                high=self.written.high,
            )


def _group_change(journeys: QuerySet[Journey], step: Step, now: dt.datetime) -> None:
    """Add the contacts of ``journeys`` to the group step's static group, or take
    them out of it."""
    contacts = Contact.objects.filter(pk__in=journeys.values("contact_id"))
    try:
        if step.get("group_action") == "remove":
            memberships_remove(group_id=step["group_id"], contacts=contacts)
        else:
            memberships_add(group_id=step["group_id"], contacts=contacts, now=now)
    except AudienceGroup.DoesNotExist:
        raise FlowNotRunnable(
            f"the group of step {step['position']} no longer exists; publish the "
            "flow again"
        ) from None
    except NotStatic as exc:
        raise FlowNotRunnable(str(exc)) from None


def _carry(
    at_step: QuerySet[Journey],
    steps: dict[int, Step],
    position: int,
    now: dt.datetime,
    moved: Moved,
) -> None:
    """Carry the journeys at ``position`` to their next wait or end."""
    if steps[position]["kind"] == REPLY:
        # Those that waited here and got no reply in time go the no-reply way (the
        # next pass carries them on); the rest have just arrived and start waiting.
        at_step.filter(awaiting_reply=True).update(
            step=steps[position]["timeout"],
            due_at=now,
            awaiting_reply=False,
            hops=F("hops") + 1,
        )
    way = segment(steps, position)
    check_channels(way.sends)
    # Checked before anything is written: a condition that no longer makes sense
    # (its variable deleted) stops these journeys here, not half-way.
    matching = (
        Contact.objects.filter(branch_q(way.stop)).values("pk")
        if way.stop["kind"] == BRANCH
        else Contact.objects.none().values("pk")
    )
    for send in way.sends:
        moved.write(at_step, send, now)
    for group in way.groups:
        _group_change(at_step, group, now)
    hops = F("hops") + len(way.sends) + len(way.groups) + 1
    stop = way.stop
    if stop["kind"] == END:
        moved.ended += at_step.update(
            step=stop["position"],
            status=Journey.Status.ENDED,
            due_at=None,
            ended_at=now,
            end_reason="reached the end",
            hops=hops,
        )
    elif stop["kind"] == WAIT:
        # Hops count the steps since the last wait: only a loop without one runs away.
        at_step.update(
            step=after_wait(stop, steps),
            due_at=_wait_over_at(way.sends, stop, moved.cohort, now),
            hops=0,
        )
    elif stop["kind"] == REPLY:
        at_step.update(
            step=stop["position"],
            due_at=_wait_over_at(way.sends, stop, moved.cohort, now),
            awaiting_reply=True,
            hops=0,
        )
    elif stop["kind"] == BRANCH:
        # The database decides, per contact: yes for those matching, no for the rest.
        at_step.filter(contact__in=matching).update(
            step=stop["yes"], due_at=now, hops=hops
        )
        at_step.update(step=stop["no"], due_at=now, hops=hops)
    else:  # pragma: no cover - versions are validated when published
        raise FlowNotRunnable(f"unknown step kind {stop['kind']!r}")


def _wait_over_at(
    sends: list[Step], wait: Step, cohort: Cohort, now: dt.datetime
) -> dt.datetime:
    """When a wait that follows ``sends`` is over: it counts from when their messages
    can go out (active hours may hold them), not from when they were written.

    A wait for a reply also counts from when its own channel (that of the question)
    can send: a question written on the way here, before a branch, waits for the
    same hours even though no send is in this stretch."""
    channel_ids = [send["channel_id"] for send in sends]
    if wait["kind"] == REPLY and wait.get("channel_id") is not None:
        channel_ids.append(wait["channel_id"])
    start = (
        messages_go_out_at(channel_ids=channel_ids, window=cohort.batch.window, now=now)
        if channel_ids
        else now
    )
    return start + dt.timedelta(seconds=wait["wait_seconds"])


def advance_selection(
    selection: QuerySet[Journey], now: dt.datetime, moved: Moved
) -> None:
    """Move every due journey of ``selection`` as far as it goes now."""
    versions: dict[int, dict[int, Step]] = {}
    due = selection.filter(status=Journey.Status.ACTIVE, due_at__lte=now)
    # Each pass moves every group one segment; branches may need another pass.
    for _ in range(MAX_PASSES):
        runaway = due.filter(hops__gte=MAX_HOPS).update(
            status=Journey.Status.ENDED,
            awaiting_reply=False,
            ended_at=now,
            due_at=None,
            end_reason=f"stopped after {MAX_HOPS} steps (a loop that never ends)",
        )
        moved.ended += runaway
        groups = list(due.values_list("flow_version_id", "step").distinct())
        if not groups:
            return
        for version_id, position in groups:
            if version_id not in versions:
                version = FlowVersion.objects.get(pk=version_id)
                versions[version_id] = by_position(version.steps)
            at_step = due.filter(flow_version_id=version_id, step=position)
            # One broken flow (a variable deleted under a branch, a channel gone)
            # must not hold up every other: its journeys stop, with the reason.
            try:
                with transaction.atomic():
                    _carry(at_step, versions[version_id], position, now, moved)
            except (FlowNotRunnable, RuleError) as exc:
                reason = getattr(exc, "message", None) or str(exc)
                logger.error(
                    "flow version %s, step %s: journeys stopped: %s",
                    version_id,
                    position,
                    reason,
                )
                moved.ended += at_step.update(
                    status=Journey.Status.FAILED,
                    awaiting_reply=False,
                    due_at=None,
                    ended_at=now,
                    end_reason=f"stopped at step {position}: {reason}"[:200],
                )


def journeys_start(
    *, cohort: Cohort, contacts: QuerySet[Contact], now: dt.datetime | None = None
) -> Moved:
    """Put every contact of ``contacts`` on the cohort's flow version and carry them
    on.

    One journey per contact (INSERT … SELECT, placed straight at the first wait,
    branch or end), one message per contact and send step met on the way. Queues
    the messages' dispatch for when the transaction commits.
    """
    now = now or timezone.now()
    version = cohort.flow_version
    check_channels(version.steps)
    steps = by_position(version.steps)
    way = segment(steps, first_position(version.steps))
    stop = way.stop
    due_at: dt.datetime | None
    ended_at: dt.datetime | None
    status, position, due_at, ended_at = (
        Journey.Status.ACTIVE,
        stop["position"],
        now,
        None,
    )
    if stop["kind"] == END:
        status, due_at, ended_at = Journey.Status.ENDED, None, now
    elif stop["kind"] == WAIT:
        position = after_wait(stop, steps)
        due_at = _wait_over_at(way.sends, stop, cohort, now)
    elif stop["kind"] == REPLY:
        due_at = _wait_over_at(way.sends, stop, cohort, now)
    held = stop["kind"] in (WAIT, REPLY)
    hops = 0 if held else len(way.sends) + len(way.groups) + (stop["kind"] == END)
    entered = journeys_insert(
        contacts,
        cohort=cohort,
        step=position,
        status=status,
        due_at=due_at,
        hops=hops,
        now=now,
        ended_at=ended_at,
        awaiting_reply=stop["kind"] == REPLY,
    )
    journeys_restat(entered)
    journeys = Journey.objects.filter(cohort=cohort)
    moved = Moved(
        cohort, entered=entered, ended=entered if status == Journey.Status.ENDED else 0
    )
    for send in way.sends:
        moved.write(journeys, send, now)
    for group in way.groups:
        _group_change(journeys, group, now)
    if stop["kind"] == BRANCH:
        advance_selection(journeys, now, moved)
    moved.dispatch()
    return moved


def journeys_enter(
    *,
    cohort: Cohort,
    contacts: QuerySet[Contact],
    entry_key: str,
    context: dict[str, Any] | None = None,
    now: dt.datetime | None = None,
) -> int:
    """Put ``contacts`` on the entries cohort's version, at most once per (flow,
    contact, entry_key), and carry them on at once. Return how many entered."""
    now = now or timezone.now()
    version = cohort.flow_version
    check_channels(version.steps)
    with transaction.atomic():
        entered = journeys_insert(
            contacts,
            cohort=cohort,
            step=first_position(version.steps),
            status=Journey.Status.ACTIVE,
            due_at=now,
            hops=0,
            now=now,
            entry_key=entry_key[:200],
            context=context,
        )
        if entered:
            moved = Moved(cohort, entered=entered)
            advance_selection(
                Journey.objects.filter(cohort=cohort, entry_key=entry_key[:200]),
                now,
                moved,
            )
            moved.dispatch()
    return entered


def journeys_advance(
    *, now: dt.datetime | None = None, limit: int = ADVANCE_BATCH
) -> int:
    """Carry on the journeys whose wait is over, a batch at a time. Return how many
    journeys were taken.

    Journeys of held cohorts (suspended campaigns) stay where they are until their
    cohort is released. Safe to run in several workers at once: each batch is locked
    (SKIP LOCKED on PostgreSQL), so two workers never take the same journey.
    """
    now = now or timezone.now()
    taken = 0
    while True:
        with transaction.atomic():
            due = Journey.objects.filter(
                status=Journey.Status.ACTIVE, due_at__lte=now, cohort__held=False
            ).order_by("due_at")
            if connection.vendor == "postgresql":
                due = due.select_for_update(skip_locked=True, of=("self",))
            ids = list(due.values_list("pk", flat=True)[:limit])
            if not ids:
                return taken
            taken += len(ids)
            batch = Journey.objects.filter(pk__in=ids)
            # Each cohort's messages go in its own batch, dispatched per batch.
            cohort_ids = set(batch.values_list("cohort_id", flat=True).distinct())
            for cohort in Cohort.objects.filter(pk__in=cohort_ids).select_related(
                "batch", "flow_version"
            ):
                moved = Moved(cohort)
                advance_selection(batch.filter(cohort=cohort), now, moved)
                moved.dispatch()
        if len(ids) < limit:
            return taken


def journeys_cancel(*, journeys: QuerySet[Journey], reason: str) -> int:
    """End open journeys where they are (Finish, a campaign's end, an archived
    flow); return how many."""
    return journeys.filter(status=Journey.Status.ACTIVE).update(
        status=Journey.Status.CANCELLED,
        awaiting_reply=False,
        due_at=None,
        ended_at=timezone.now(),
        end_reason=reason[:200],
    )
