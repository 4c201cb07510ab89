"""The journey engine: moves contacts through a flow version, set-wise.

Every contact on a flow has a journey row that says at which step it is and when it
moves on. Journeys at the same step move together, in SQL: a run of send steps
inserts one message per journey and step (INSERT … SELECT), a wait sets the time the
journeys are due again, a branch splits them with one UPDATE per path (the condition
is evaluated by the database), an end closes them. Only waits hold journeys back, so
one pass carries each journey to its next wait or to its end.

This module is the only writer of Journey.step, status and due_at.
"""

import datetime as dt
import json
import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from audiences.models import AudienceGroup, Contact
from audiences.rules import RuleError
from messaging.dispatch import dispatch_range_on_commit, messages_go_out_at
from messaging.models import Channel, Message

from .conditions import branch_q
from .graph import BRANCH, END, SEND, WAIT, Step, ordered, successors
from .models import Flow, FlowVersion, Journey

logger = logging.getLogger(__name__)

# A journey that has taken this many steps is in a loop nobody meant: stop it.
MAX_HOPS = 1000
# How many due journeys one advance pass takes (each pass is one transaction).
ADVANCE_BATCH = 5000
# A branch can lead to a branch: each pass carries every journey one segment on.
MAX_PASSES = 50


class FlowNotRunnable(ImproperlyConfigured):
    """The version cannot be run (a channel it sends on is gone)."""


@dataclass
class Segment:
    """From a step: the send steps met on the way, and the step that stops the way."""

    sends: list[Step]
    stop: Step


def _steps(version: FlowVersion) -> dict[int, Step]:
    return {step["position"]: step for step in version.steps}


def _next(step: Step, steps: dict[int, Step]) -> int | None:
    return successors(step, ordered(steps.values()))[0][1]


def segment(steps: dict[int, Step], position: int) -> Segment:
    """Follow send steps from ``position`` to the first wait, branch or end.

    A step that leads nowhere (versions published before End steps were required)
    ends the way as an End step would.
    """
    sends: list[Step] = []
    step = steps[position]
    while step["kind"] == SEND:
        sends.append(step)
        target = _next(step, steps)
        if target is None or target not in steps:
            return Segment(sends, {"kind": END, "position": step["position"]})
        step = steps[target]
    if step["kind"] == WAIT and _next(step, steps) not in steps:
        # A wait with nothing after it changes nothing: the way ends there.
        return Segment(sends, {"kind": END, "position": step["position"]})
    return Segment(sends, step)


def _after_wait(stop: Step, steps: dict[int, Step]) -> int:
    target = _next(stop, steps)
    assert target is not None  # segment() ends the way at a wait leading nowhere
    return target


def first_position(version: FlowVersion) -> int:
    return ordered(version.steps)[0]["position"]


def check_channels(version: FlowVersion) -> None:
    wanted = {s["channel_id"] for s in version.steps if s["kind"] == SEND}
    found = set(Channel.objects.filter(pk__in=wanted).values_list("pk", flat=True))
    if wanted - found:
        raise FlowNotRunnable(
            f"Flow version {version} sends on channel(s) {sorted(wanted - found)}, "
            "which no longer exist; publish the flow again."
        )


def _adapt(moment: dt.datetime) -> Any:
    # Raw SQL skips the field's conversion; SQLite stores text, so it must match
    # the ORM's format to compare correctly.
    return connection.ops.adapt_datetimefield_value(moment)


def _insert_messages(
    journeys: QuerySet[Journey], step: Step, now: dt.datetime, run_id: int | None
) -> tuple[int, int | None, int | None]:
    """One message per journey of ``journeys`` (all of run ``run_id``, or all
    entered without a run when None) for a send step; opted-out contacts get
    ``skipped``.

    Returns (inserted, lowest id, highest id): every new row's id lies in that range
    (rows of other runs written at the same time may too).
    """
    journey_sql, params = (
        journeys.order_by().values("id", "run_id", "contact_id").query.sql_with_params()
    )
    lease_until = now + dt.timedelta(seconds=settings.MESSAGING_LEASE_SECONDS)
    table = Message._meta.db_table
    # The unique key a message already written for the journey hits: naming it
    # spares PostgreSQL a probe of every other unique index for every row.
    arbiter = (
        "(run_id, contact_id, step)"
        if run_id is not None
        else "(journey_id, step) WHERE run_id IS NULL"
    )
    # The dispatch task queued at commit owns the rows until then; after it, the
    # sweeper queues them again (the broker may have lost the task).
    insert = f"""
        INSERT INTO {table}
            (run_id, journey_id, contact_id, step, channel_id, status, attempts,
             body, error, provider_id, created_at, lease_until)
        SELECT j.run_id, j.id, j.contact_id, %s, %s,
               CASE WHEN c.opted_out_at IS NULL THEN %s ELSE %s END,
               0, '', '', '', %s, %s
        FROM ({journey_sql}) j
        JOIN {Contact._meta.db_table} c ON c.id = j.contact_id
        WHERE TRUE
        ORDER BY j.id
        ON CONFLICT {arbiter} DO NOTHING
    """
    values = [
        step["id"],
        step["channel_id"],
        Message.Status.QUEUED,
        Message.Status.SKIPPED,
        _adapt(now),
        _adapt(lease_until),
        *params,
    ]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The new ids lie between a number drawn from the id sequence before
            # and its last number after: cheaper than RETURNING a million ids.
            cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id'))", [table])
            (before,) = cursor.fetchone()
            cursor.execute(insert, values)
            if not cursor.rowcount:
                return 0, None, None
            inserted = cursor.rowcount
            cursor.execute("SELECT currval(pg_get_serial_sequence(%s, 'id'))", [table])
            (last,) = cursor.fetchone()
            return inserted, before + 1, last
        cursor.execute(f"{insert} RETURNING id", values)
        ids = [row[0] for row in cursor.fetchall()]
    return len(ids), min(ids, default=None), max(ids, default=None)


@dataclass
class Moved:
    """What moving the journeys of one run (``run_id``; None: journeys entered
    without a run) wrote."""

    run_id: int | None
    messages: int = 0
    ended: int = 0
    low: int | None = None
    high: int | None = None

    def add_messages(self, count: int, low: int | None, high: int | None) -> None:
        self.messages += count
        if low is not None:
            self.low = low if self.low is None else min(self.low, low)
        if high is not None:
            self.high = high if self.high is None else max(self.high, high)


def _carry(
    at_step: QuerySet[Journey],
    steps: dict[int, Step],
    position: int,
    now: dt.datetime,
    moved: Moved,
) -> None:
    """Carry the journeys at ``position`` to their next wait or end."""
    way = segment(steps, position)
    _check_send_channels(way.sends)
    # Checked before anything is written: a condition that no longer makes sense
    # (its variable deleted) stops these journeys here, not half-way.
    matching = (
        Contact.objects.filter(branch_q(way.stop)).values("pk")
        if way.stop["kind"] == BRANCH
        else Contact.objects.none().values("pk")
    )
    for send in way.sends:
        moved.add_messages(*_insert_messages(at_step, send, now, moved.run_id))
    hops = F("hops") + len(way.sends) + 1
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
            step=_after_wait(stop, steps),
            due_at=_wait_over_at(way.sends, stop, moved.run_id, now),
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
    sends: list[Step], wait: Step, run_id: int | None, now: dt.datetime
) -> dt.datetime:
    """When a wait that follows ``sends`` is over: it counts from when their messages
    can go out (active hours may hold them), not from when they were written."""
    start = (
        messages_go_out_at(
            channel_ids=[send["channel_id"] for send in sends], run_id=run_id, now=now
        )
        if sends
        else now
    )
    return start + dt.timedelta(seconds=wait["wait_seconds"])


def _check_send_channels(sends: list[Step]) -> None:
    wanted = {send["channel_id"] for send in sends}
    if wanted and Channel.objects.filter(pk__in=wanted).count() != len(wanted):
        raise FlowNotRunnable(
            "a channel this flow version sends on no longer exists; publish the "
            "flow again"
        )


def _advance_selection(
    selection: QuerySet[Journey], now: dt.datetime, moved: Moved
) -> None:
    """Move every due journey of ``selection`` as far as it goes now."""
    versions: dict[int, dict[int, Step]] = {}
    due = selection.filter(status=Journey.Status.ACTIVE, due_at__lte=now)
    # Each pass moves every group one segment; branches may need another pass.
    for _ in range(MAX_PASSES):
        runaway = due.filter(hops__gte=MAX_HOPS).update(
            status=Journey.Status.ENDED,
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
                versions[version_id] = _steps(FlowVersion.objects.get(pk=version_id))
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
                    due_at=None,
                    ended_at=now,
                    end_reason=f"stopped at step {position}: {reason}"[:200],
                )


def journeys_start_for_run(*, run: Any, now: dt.datetime | None = None) -> Moved:
    """Put every member of the run's group on its flow version and carry them on.

    One journey per contact (INSERT … SELECT from the group's members, placed straight
    at the first wait, branch or end), one message per contact and send step met on
    the way. Queues the messages' dispatch for when the transaction commits.
    """
    now = now or timezone.now()
    version: FlowVersion = run.flow_version
    check_channels(version)
    steps = _steps(version)
    way = segment(steps, first_position(version))
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
        position = _after_wait(stop, steps)
        due_at = _wait_over_at(way.sends, stop, run.pk, now)
    hops = 0 if stop["kind"] == WAIT else len(way.sends) + (stop["kind"] == END)
    group: AudienceGroup = run.campaign.group
    members = group.members()
    entered = _insert_journeys(
        members,
        flow_id=version.flow_id,
        version_id=version.pk,
        run_id=run.pk,
        step=position,
        status=status,
        due_at=due_at,
        hops=hops,
        now=now,
        ended_at=ended_at,
    )
    journeys = Journey.objects.filter(run=run)
    moved = Moved(run.pk, ended=entered if status == Journey.Status.ENDED else 0)
    for send in way.sends:
        moved.add_messages(*_insert_messages(journeys, send, now, run.pk))
    if stop["kind"] == BRANCH:
        _advance_selection(journeys, now, moved)
    run.recipients = entered
    run.skipped = members.filter(opted_out_at__isnull=False).count()
    run.messages_created = moved.messages
    run.save(update_fields=["recipients", "skipped", "messages_created"])
    _dispatch(run.pk, moved)
    return moved


def _insert_journeys(
    contacts: QuerySet[Contact],
    *,
    flow_id: int,
    version_id: int,
    run_id: int | None,
    step: int,
    status: str,
    due_at: dt.datetime | None,
    hops: int,
    now: dt.datetime,
    ended_at: dt.datetime | None = None,
    entry_key: str = "",
    context: dict[str, Any] | None = None,
) -> int:
    """One journey per contact of ``contacts`` (INSERT … SELECT), none where the
    contact already has one for the run or entry key. Return how many were made."""
    contact_sql, params = contacts.values("id").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {Journey._meta.db_table}
                (flow_id, flow_version_id, run_id, contact_id, step, status, due_at,
                 hops, entry_key, context, entered_at, ended_at, end_reason)
            SELECT %s, %s, %s, c.id, %s, %s, %s, %s, %s, %s, %s, %s, %s
            FROM ({contact_sql}) c
            WHERE TRUE
            ORDER BY c.id
            ON CONFLICT DO NOTHING
            """,
            [
                flow_id,
                version_id,
                run_id,
                step,
                status,
                _adapt(due_at) if due_at else None,
                hops,
                entry_key,
                json.dumps(context or {}),
                _adapt(now),
                _adapt(ended_at) if ended_at else None,
                "reached the end" if ended_at else "",
                *params,
            ],
        )
        return max(cursor.rowcount, 0)


def _dispatch(run_id: int | None, moved: Moved) -> None:
    if moved.low is not None and moved.high is not None:
        dispatch_range_on_commit(run_id=run_id, low=moved.low, high=moved.high)


def journeys_enter(
    *,
    flow: Flow,
    contacts: QuerySet[Contact],
    entry_key: str,
    context: dict[str, Any] | None = None,
    now: dt.datetime | None = None,
) -> int:
    """Put ``contacts`` on the flow's published version, without a campaign run, at
    most once per (flow, contact, entry_key); carry them on at once. Return how many
    entered."""
    now = now or timezone.now()
    version = flow.current_version
    if version is None:
        return 0
    check_channels(version)
    with transaction.atomic():
        entered = _insert_journeys(
            contacts,
            flow_id=flow.pk,
            version_id=version.pk,
            run_id=None,
            step=first_position(version),
            status=Journey.Status.ACTIVE,
            due_at=now,
            hops=0,
            now=now,
            entry_key=entry_key[:200],
            context=context,
        )
        if entered:
            moved = Moved(None)
            _advance_selection(
                Journey.objects.filter(
                    flow=flow, entry_key=entry_key[:200], run__isnull=True
                ),
                now,
                moved,
            )
            _dispatch(None, moved)
    return entered


def journeys_advance(
    *, now: dt.datetime | None = None, limit: int = ADVANCE_BATCH
) -> int:
    """Carry on the journeys whose wait is over, a batch at a time. Return how many
    journeys were taken.

    Journeys of suspended campaigns stay where they are until the campaign resumes.
    Safe to run in several workers at once: each batch is locked (SKIP LOCKED on
    PostgreSQL), so two workers never take the same journey.
    """
    from campaigns.models import CampaignStatus

    now = now or timezone.now()
    taken = 0
    while True:
        with transaction.atomic():
            due = (
                Journey.objects.filter(status=Journey.Status.ACTIVE, due_at__lte=now)
                .filter(
                    Q(run__isnull=True)
                    | Q(run__campaign__status=CampaignStatus.IN_PROGRESS)
                )
                .order_by("due_at")
            )
            if connection.vendor == "postgresql":
                due = due.select_for_update(skip_locked=True, of=("self",))
            ids = list(due.values_list("pk", flat=True)[:limit])
            if not ids:
                return taken
            taken += len(ids)
            batch = Journey.objects.filter(pk__in=ids)
            # Campaign runs dispatch per run, so their tasks check their campaign.
            runs = set(batch.values_list("run_id", flat=True).distinct())
            for run_id in runs:
                moved = Moved(run_id)
                _advance_selection(batch.filter(run_id=run_id), now, moved)
                _dispatch(run_id, moved)
        if len(ids) < limit:
            return taken


def journeys_cancel(*, journeys: QuerySet[Journey], reason: str) -> int:
    """End open journeys where they are (Finish, a campaign's end); return how
    many."""
    return journeys.filter(status=Journey.Status.ACTIVE).update(
        status=Journey.Status.CANCELLED,
        due_at=None,
        ended_at=timezone.now(),
        end_reason=reason[:200],
    )
