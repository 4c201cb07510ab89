"""Dispatch: hand queued messages to their channel backends, in chunks.

A message is claimed before its provider is called: one conditional UPDATE puts a
fresh claim token and a lease on the range's due, unclaimed rows, so two workers handed
the same range (a redelivered task, a sweeper re-queue) never both send a row. The claim
leaves the status alone ("queued" with a claim reads as sending): it changes no indexed
column, so PostgreSQL makes it in place, without touching the table's indexes. The
claim's lease outlives the task's hard time limit, so the sweeper never takes a claim
back from a worker that is still running. Outcomes are recorded per row, conditional on
the claim.
Nothing is deferred through the broker: ``not_before`` in the database says when a
retried or out-of-hours message is due, and the sweeper queues it then.

This module is the only writer of Message.status, but for what providers report back
(receipts.py: delivered, failed after sent, skipped on opt-out).
"""

import datetime as dt
import functools
import json
import logging
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, models, transaction
from django.db.models import Case, F, Q, Value, When
from django.db.models.base import ModelState
from django.utils import timezone

from audiences.models import Contact
from campaigns.models import CampaignRun
from flows.models import Flow, FlowVersion
from flows.rendering import render

from .backends import DeliveryError, get_backend
from .models import Channel, Message, MessageQuerySet
from .ratelimit import rate_limit_wait
from .windows import Window, WindowsNeverMeet, windows_open_at

logger = logging.getLogger(__name__)

UNSENT = (Message.Status.QUEUED, Message.Status.DEFERRED)
# How often a worker sending a chunk looks whether its campaign was ended meanwhile.
RUN_CHECK_SECONDS = 1.0


@dataclass
class DispatchReport:
    sent: int = 0
    failed: int = 0
    retrying: int = 0
    deferred: int = 0
    skipped: int = 0
    cancelled: int = 0
    released: int = 0
    errors: list[str] = field(default_factory=list)


def _lease() -> dt.timedelta:
    return dt.timedelta(seconds=settings.MESSAGING_LEASE_SECONDS)


def retry_delay(attempts: int) -> dt.timedelta:
    """Back off 30 s, 1 min, 2 min, ... up to an hour after the n-th failed attempt."""
    return dt.timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 3600))


def id_ranges(ids: Iterable[int], size: int) -> list[tuple[int, int]]:
    """Cut sorted ids into (first, last) ranges holding at most ``size`` ids each."""
    ranges: list[tuple[int, int]] = []
    chunk: list[int] = []
    for message_id in ids:
        chunk.append(message_id)
        if len(chunk) == size:
            ranges.append((chunk[0], chunk[-1]))
            chunk = []
    if chunk:
        ranges.append((chunk[0], chunk[-1]))
    return ranges


def messages_cancel(*, runs: "models.QuerySet[CampaignRun]", reason: str) -> int:
    """Cancel the unsent messages of ``runs``. Return how many were cancelled.

    Messages a worker holds at this moment are left to it: it cancels them itself
    when it sees their run cancelled.
    """
    return Message.objects.filter(
        run__in=runs, status__in=UNSENT, claim_token__isnull=True
    ).update(status=Message.Status.CANCELLED, error=reason, lease_until=None)


def messages_cancel_for_journeys(
    *, journeys: "models.QuerySet[Any]", reason: str
) -> int:
    """Cancel the unsent messages of ``journeys`` (flows entered without a run)."""
    return Message.objects.filter(
        journey__in=journeys, status__in=UNSENT, claim_token__isnull=True
    ).update(status=Message.Status.CANCELLED, error=reason, lease_until=None)


def dispatch_range_on_commit(*, run_id: int | None, low: int, high: int) -> None:
    """Queue send tasks for message ids low..high (of ``run_id``, or of no run) once
    the current transaction commits."""
    transaction.on_commit(lambda: dispatch_range(run_id=run_id, low=low, high=high))


def dispatch_range(*, run_id: int | None, low: int, high: int) -> int:
    """Queue one send task per chunk of ids in low..high. Return the task count."""
    from .tasks import send_messages

    size = settings.MESSAGING_DISPATCH_CHUNK
    count = 0
    for first in range(low, high + 1, size):
        send_messages.delay(run_id, first, min(first + size - 1, high))
        count += 1
    return count


def _run_has_ended(run_id: int | None) -> bool:
    """Whether the run's messages must no longer go out: it was cut short by End, or
    it is over (a run is only done once nothing of it is left to send)."""
    if run_id is None:
        return False
    return (
        CampaignRun.objects.filter(pk=run_id)
        .exclude(status=CampaignRun.Status.RUNNING)
        .exists()
    )


def messages_send_range(
    *, run_id: int | None, first_id: int, last_id: int, now: dt.datetime | None = None
) -> DispatchReport:
    """Claim the due messages of a run (or, for None, of no run: flows entered by an
    event or an audience) with ids in [first_id, last_id] and send them.

    Safe to call twice for the same range: rows already claimed or finished are left
    alone.
    """
    now = now or timezone.now()
    report = DispatchReport()
    in_range = Message.objects.filter(run_id=run_id, id__gte=first_id, id__lte=last_id)
    if run_id is not None and _run_has_ended(run_id):
        report.cancelled = messages_cancel(
            runs=CampaignRun.objects.filter(pk=run_id), reason="campaign ended"
        )
        return report
    campaign_window = _campaign_window(run_id)
    # Most installations have few channels with a sending window: ask the small
    # channels table before the big messages one.
    if (
        campaign_window is not None
        or Channel.objects.filter(active_from__isnull=False).exists()
    ):
        _defer_outside_active_hours(in_range, now, report, campaign_window)
    token = uuid.uuid4()
    mine = in_range.filter(claim_token=token)
    if connection.vendor == "postgresql":
        messages = _claim_and_read(run_id, first_id, last_id, token, now)
    else:
        claimed = (
            in_range.due(now)
            .filter(claim_token__isnull=True)
            .update(
                claim_token=token,
                lease_until=now + _lease(),
                attempts=F("attempts") + 1,
            )
        )
        messages = claimed_messages(mine) if claimed else []
    if not messages:
        return report
    # Opted out since the fan-out (a STOP reply): skipped, not sent.
    opted_out = [m.pk for m in messages if m.contact.opted_out_at is not None]
    if opted_out:
        report.skipped = mine.filter(pk__in=opted_out).update(
            status=Message.Status.SKIPPED, claim_token=None, lease_until=None
        )
        messages = [m for m in messages if m.contact.opted_out_at is None]
    if run_id is None:
        messages = _cancel_if_flow_archived(messages, token, report)
    steps = _steps_for({m.version_id for m in messages if m.version_id})
    began = checked_at = time.monotonic()

    def clock() -> dt.datetime:
        return now + dt.timedelta(seconds=time.monotonic() - began)

    sent = SentBatch(token, report)
    hours = ActiveHours(campaign_window)
    stopped: set[int] = set()
    budget = settings.MESSAGING_TASK_BUDGET_SECONDS
    for index, message in enumerate(messages):
        if time.monotonic() - began > budget:
            # A slow provider or a tight rate limit: hand the rest of the chunk to a
            # fresh task rather than run into the task's time limit.
            sent.flush()
            _release(messages[index:], token, run_id, report)
            break
        if time.monotonic() - checked_at >= RUN_CHECK_SECONDS:
            # Ending the campaign must stop a long chunk too, not only the next one.
            checked_at = time.monotonic()
            if _run_has_ended(run_id):
                sent.flush()  # what went out is recorded as sent, not cancelled
                report.cancelled += mine.update(
                    status=Message.Status.CANCELLED,
                    error="campaign ended",
                    claim_token=None,
                    lease_until=None,
                )
                break
            stopped |= _stopped_since_claim(messages[index:], token, report)
        if message.pk in stopped:
            continue
        _deliver(message, steps, token, clock(), report, sent, hours)
        sent.flush_if_due()
    sent.flush()
    return report


def _cancel_if_flow_archived(
    messages: list[Message], token: uuid.UUID, report: DispatchReport
) -> list[Message]:
    """Cancel the claimed ``messages`` (of journeys entered without a campaign) whose
    flow is archived; return the others. Archiving cancels only the messages nobody
    holds: one held then and given back (a failure to retry, a lost worker, a chunk
    out of time) is cancelled when claimed again."""
    archived = set(
        FlowVersion.objects.filter(
            pk__in={m.version_id for m in messages}, flow__status=Flow.Status.ARCHIVED
        ).values_list("pk", flat=True)
    )
    if not archived:
        return messages
    report.cancelled += Message.objects.filter(
        pk__in=[m.pk for m in messages if m.version_id in archived],
        claim_token=token,
    ).update(
        status=Message.Status.CANCELLED,
        error="flow archived",
        claim_token=None,
        lease_until=None,
    )
    return [m for m in messages if m.version_id not in archived]


def _stopped_since_claim(
    rest: list[Message], token: uuid.UUID, report: DispatchReport
) -> set[int]:
    """Skip the messages of ``rest`` whose contact opted out (a STOP reply) and cancel
    those of a flow archived (entered without a campaign) since they were claimed: a
    long chunk (a slow provider, a rate limit) must not send them. Return their
    ids."""
    from flows.models import Journey

    opted_out = set(
        Contact.objects.filter(
            pk__in={m.contact_id for m in rest}, opted_out_at__isnull=False
        ).values_list("pk", flat=True)
    )
    runless = {m.journey_id for m in rest if m.run_id is None and m.journey_id}
    cancelled = (
        set(
            Journey.objects.filter(
                pk__in=runless, flow__status=Flow.Status.ARCHIVED
            ).values_list("pk", flat=True)
        )
        if runless
        else set()
    )
    skip = [m.pk for m in rest if m.contact_id in opted_out]
    cancel = [m.pk for m in rest if m.journey_id in cancelled and m.pk not in skip]
    mine = Message.objects.filter(claim_token=token)
    if skip:
        report.skipped += mine.filter(pk__in=skip).update(
            status=Message.Status.SKIPPED,
            error="opted out",
            claim_token=None,
            lease_until=None,
        )
    if cancel:
        report.cancelled += mine.filter(pk__in=cancel).update(
            status=Message.Status.CANCELLED,
            error="flow archived",
            claim_token=None,
            lease_until=None,
        )
    return {*skip, *cancel}


def _release(
    rest: list[Message], token: uuid.UUID, run_id: int | None, report: DispatchReport
) -> None:
    from .tasks import send_messages

    ids = [message.pk for message in rest]
    report.released = Message.objects.filter(pk__in=ids, claim_token=token).update(
        claim_token=None,
        reported_status="",
        lease_until=None,
        attempts=F("attempts") - 1,
    )
    if report.released:
        send_messages.delay(run_id, min(ids), max(ids))


# Sends are recorded in batches, at most this many or this old: a worker killed
# between a send and its record leaves at most this many messages to be sent again
# (with the same idempotency key) when their lease expires.
RECORD_EVERY = 100
RECORD_SECONDS = 0.5


class SentBatch:
    """Sent messages waiting to be recorded, in one UPDATE per batch on PostgreSQL."""

    def __init__(self, token: uuid.UUID, report: DispatchReport) -> None:
        self.token, self.report = token, report
        self.batched = connection.vendor == "postgresql"
        # (id, text sent, provider's id, when: seconds since the epoch)
        self.rows: list[tuple[int, str, str, float]] = []
        self.oldest = 0.0

    def add(self, message: Message, provider_id: str) -> None:
        if not self.rows:
            self.oldest = time.monotonic()
        self.rows.append((message.pk, message.body, provider_id[:200], time.time()))
        if not self.batched:
            self.flush()

    def flush_if_due(self) -> None:
        if len(self.rows) >= RECORD_EVERY or (
            self.rows and time.monotonic() - self.oldest >= RECORD_SECONDS
        ):
            self.flush()

    def flush(self) -> None:
        if not self.rows:
            return
        rows, self.rows = self.rows, []
        if self.batched:
            recorded = _record_sent_batch(rows, self.token)
        else:
            recorded = sum(_record_sent_row(row, self.token) for row in rows)
        if recorded < len(rows):
            logger.error(
                "%d messages were sent but their claim was lost", len(rows) - recorded
            )
        self.report.sent += recorded


# A receipt that came before the send was recorded (fast providers) is applied now.
_SENT_STATUS = """CASE m.reported_status WHEN 'delivered' THEN 'delivered'
    WHEN 'failed' THEN 'failed' ELSE 'sent' END"""


def _record_sent_batch(
    rows: list[tuple[int, str, str, float]], token: uuid.UUID
) -> int:
    # The rows go as one JSON text: quoting arrays of Python values for the query
    # cost more than the update itself.
    ids = [row[0] for row in rows]
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE {Message._meta.db_table} AS m
            SET status = {_SENT_STATUS}, body = v.body, provider_id = v.provider_id,
                sent_at = to_timestamp(v.sent_at), claim_token = NULL,
                lease_until = NULL, error = ''
            FROM json_to_recordset(%s::json)
                AS v (id bigint, body text, provider_id text, sent_at float8)
            WHERE m.id = v.id AND m.id BETWEEN %s AND %s AND m.claim_token = %s
            """,
            # The claim token alone says the row is still ours: everything that
            # takes a claim back or ends a message clears it. The id range keeps
            # the planner on the primary key.
            [
                json.dumps(
                    [
                        {"id": pk, "body": body, "provider_id": provider, "sent_at": t}
                        for pk, body, provider, t in rows
                    ]
                ),
                min(ids),
                max(ids),
                token,
            ],
        )
        return cursor.rowcount


def _record_sent_row(row: tuple[int, str, str, float], token: uuid.UUID) -> int:
    pk, body, provider_id, sent_seconds = row
    sent_at = dt.datetime.fromtimestamp(sent_seconds, dt.UTC)
    return Message.objects.filter(pk=pk, claim_token=token).update(
        status=Case(
            When(reported_status=Message.Status.DELIVERED, then=Value("delivered")),
            When(reported_status=Message.Status.FAILED, then=Value("failed")),
            default=Value("sent"),
        ),
        body=body,
        provider_id=provider_id,
        sent_at=sent_at,
        claim_token=None,
        lease_until=None,
        error="",
    )


def _claim_and_read(
    run_id: int | None, first_id: int, last_id: int, token: uuid.UUID, now: dt.datetime
) -> list[Message]:
    """Claim the due messages of the range and read what sending them needs, in one
    statement (PostgreSQL): the claimed rows come back from the UPDATE itself."""
    from campaigns.models import Campaign
    from flows.models import Journey

    table = Message._meta.db_table
    # Not "run_id = %s": right after a big fan-out the planner's statistics do not
    # know the run yet and would pick an index on run_id over the id range.
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH claimed AS (
                UPDATE {table} AS m
                SET claim_token = %s, lease_until = %s, attempts = m.attempts + 1
                WHERE m.id BETWEEN %s AND %s AND m.run_id IS NOT DISTINCT FROM %s
                  AND m.status IN (%s, %s) AND m.claim_token IS NULL
                  AND (m.not_before IS NULL OR m.not_before <= %s)
                RETURNING m.id, m.step, m.attempts, m.run_id, m.channel_id,
                          m.journey_id, m.contact_id
            )
            SELECT c.id, c.step, c.attempts, c.run_id, c.channel_id, c.journey_id,
                   c.contact_id, ct.phone, ct.name, ct.email, ct.data, ct.opted_out_at,
                   j.flow_version_id, j.context, r.flow_version_id, r.sender_name,
                   r.reply_to
            FROM claimed c
            -- Lookups by key, one per claimed row (LIMIT 1 keeps them so): joined
            -- plainly, the planner merged the claimed rows with a scan of the
            -- whole contacts and journeys tables from their start, slower with
            -- every chunk of a big run.
            CROSS JOIN LATERAL (
                SELECT phone, name, email, data, opted_out_at
                FROM {Contact._meta.db_table} WHERE id = c.contact_id LIMIT 1
            ) ct
            -- A run's messages take their flow version from the run, and their
            -- journeys hold no event properties: only runless ones look theirs up.
            LEFT JOIN LATERAL (
                SELECT flow_version_id, context
                FROM {Journey._meta.db_table}
                WHERE id = c.journey_id AND c.run_id IS NULL LIMIT 1
            ) j ON true
            LEFT JOIN (
                SELECT run.id, run.flow_version_id, cp.sender_name, cp.reply_to
                FROM {CampaignRun._meta.db_table} run
                JOIN {Campaign._meta.db_table} cp ON cp.id = run.campaign_id
                WHERE run.id = %s
            ) r ON r.id = c.run_id
            ORDER BY c.id
            """,
            [
                token,
                now + _lease(),
                first_id,
                last_id,
                run_id,
                Message.Status.QUEUED,
                Message.Status.DEFERRED,
                now,
                run_id,
            ],
        )
        rows = cursor.fetchall()
    return _messages_from_rows(rows)


def claimed_messages(mine: MessageQuerySet) -> list[Message]:
    """The claimed messages with what sending needs (contact, channel, flow version,
    event properties, sender), read in one query as plain values: building full model
    objects for every related row cost more than sending through a fast provider."""
    rows = list(
        mine.order_by("id").values_list(
            "id",
            "step",
            "attempts",
            "run_id",
            "channel_id",
            "journey_id",
            "contact_id",
            "contact__phone",
            "contact__name",
            "contact__email",
            "contact__data",
            "contact__opted_out_at",
            "journey__flow_version_id",
            "journey__context",
            "run__flow_version_id",
            "run__campaign__sender_name",
            "run__campaign__reply_to",
        )
    )
    return _messages_from_rows(rows)


def _messages_from_rows(rows: list[Any]) -> list[Message]:
    channels = Channel.objects.in_bulk({row[4] for row in rows})
    messages = []
    for (
        pk, step, attempts, run_id, channel_id, journey_id, contact_id, phone, name,
        email, data, opted_out_at, journey_version, context, run_version, sender_name,
        reply_to,
    ) in rows:  # fmt: skip
        # Raw rows carry JSON as text; values_list() rows, already decoded.
        if isinstance(data, str):
            data = json.loads(data)
        if isinstance(context, str):
            context = json.loads(context)
        message = _loaded(
            Message,
            id=pk,
            step=step,
            attempts=attempts,
            run_id=run_id,
            channel_id=channel_id,
            journey_id=journey_id,
            contact_id=contact_id,
            status=Message.Status.QUEUED,
        )
        contact = _loaded(
            Contact,
            id=contact_id,
            phone=phone,
            name=name,
            email=email,
            data=data,
            opted_out_at=opted_out_at,
        )
        message._state.fields_cache["contact"] = contact
        message._state.fields_cache["channel"] = channels[channel_id]
        message.version_id = journey_version or run_version
        message.context = context
        message.sender_name = sender_name or ""
        message.reply_to = reply_to or ""
        messages.append(message)
    return messages


_M = TypeVar("_M", bound=models.Model)


@functools.cache
def _blank_row(model: type[models.Model]) -> dict[str, Any]:
    return {field.attname: None for field in model._meta.concrete_fields}


def _loaded(model: type[_M], **values: Any) -> _M:
    """An instance of ``model`` holding ``values``, as if read from the database.

    Model.__init__ costs more than sending a message through a fast provider; this
    fills the instance's dict directly. Every field is set (None when not given), so
    reading one never goes back to the database.
    """
    instance = model.__new__(model)
    instance.__dict__.update(_blank_row(model))
    instance.__dict__.update(values)
    instance._state = ModelState()
    instance._state.adding = False
    instance._state.db = DEFAULT_DB_ALIAS
    return instance


def _steps_for(versions: set[int]) -> dict[tuple[int, int], dict[str, Any]]:
    """The flow steps of ``versions``, by (flow version id, step id)."""
    return {
        (version_id, step["id"]): step
        for version_id, version_steps in FlowVersion.objects.filter(
            pk__in=versions
        ).values_list("pk", "steps")
        for step in version_steps
    }


def _campaign_window(run_id: int | None) -> Window | None:
    """The active hours of the run's campaign, if it has any."""
    if run_id is None:
        return None
    from campaigns.models import Campaign

    campaign = (
        Campaign.objects.filter(runs__id=run_id)
        .only("active_from", "active_until", "timezone")
        .first()
    )
    return campaign.window if campaign is not None else None


def messages_go_out_at(
    *, channel_ids: Iterable[int], run_id: int | None, now: dt.datetime
) -> dt.datetime:
    """When messages written now on these channels (for this run) go out at the
    earliest: now, or when the last of their active hours to open opens. A flow's
    wait after a send counts from then, so a message held overnight is not followed
    by the next one in the same second. Hours that never meet count as now (those
    messages fail)."""
    wanted = set(channel_ids)
    channels = Channel.objects.filter(pk__in=wanted)
    run_window = _campaign_window(run_id)
    if run_window is None:
        channels = channels.filter(active_from__isnull=False)
    latest = now
    for channel in channels:
        try:
            opens = windows_open_at([channel.window, run_window], now)
        except WindowsNeverMeet:
            continue
        if opens is not None and opens > latest:
            latest = opens
    return latest


def _defer_outside_active_hours(
    messages: MessageQuerySet,
    now: dt.datetime,
    report: DispatchReport,
    campaign_window: Window | None,
) -> None:
    """Defer the due messages of the range to when their channel's window (and
    their campaign's) next opens; fail them when the two never meet."""
    channel_ids = messages.due(now).values_list("channel_id", flat=True).distinct()
    for channel in Channel.objects.filter(pk__in=list(channel_ids)):
        on_channel = messages.due(now).filter(channel=channel)
        try:
            opens_at = windows_open_at([channel.window, campaign_window], now)
        except WindowsNeverMeet as exc:
            report.failed += on_channel.update(
                status=Message.Status.FAILED, error=str(exc), lease_until=None
            )
            continue
        if opens_at is not None:
            report.deferred += on_channel.update(
                status=Message.Status.DEFERRED, not_before=opens_at, lease_until=None
            )


class ActiveHours:
    """The windows a chunk's messages may go out in: their channel's and their
    campaign's. Each channel's are looked up once a chunk: they are checked for
    every message, and building them cost more than the check."""

    def __init__(self, campaign: Window | None = None) -> None:
        self.campaign = campaign
        self.of_channel: dict[int, list[Window]] = {}

    def opens_at(self, channel: Channel, now: dt.datetime) -> dt.datetime | None:
        """None when a message on ``channel`` may go at ``now``, else the first
        moment it may. Raise WindowsNeverMeet when that never comes."""
        windows = self.of_channel.get(channel.pk)
        if windows is None:
            windows = self.of_channel[channel.pk] = [
                w for w in (channel.window, self.campaign) if w is not None
            ]
        for window in windows:
            if not window.is_open(now):
                return windows_open_at(windows, now)
        return None


def _deliver(
    message: Message,
    steps: dict[tuple[int, int], dict[str, Any]],
    token: uuid.UUID,
    now: dt.datetime,
    report: DispatchReport,
    sent: "SentBatch | None" = None,
    hours: ActiveHours | None = None,
) -> None:
    def mine() -> MessageQuerySet:
        return Message.objects.filter(pk=message.pk, claim_token=token)

    # A window may close while a chunk is being sent: check again, per message.
    try:
        opens_at = (hours or ActiveHours()).opens_at(message.channel, now)
    except WindowsNeverMeet as exc:
        report.failed += mine().update(
            status=Message.Status.FAILED,
            error=str(exc),
            claim_token=None,
            lease_until=None,
        )
        return
    if opens_at is not None:
        report.deferred += mine().update(
            status=Message.Status.DEFERRED,
            reported_status="",
            not_before=opens_at,
            attempts=F("attempts") - 1,
            claim_token=None,
            lease_until=None,
        )
        return
    version_id = message.version_id
    step = steps.get((version_id, message.step)) if version_id else None
    if step is None:
        report.failed += mine().update(
            status=Message.Status.FAILED,
            error="flow step not found in version",
            claim_token=None,
            lease_until=None,
        )
        return
    message.body = render(step.get("body", ""), message.contact, message.context)
    message.media_url = step.get("media_url") or ""
    wait = rate_limit_wait(message.channel)
    if wait > 0:
        time.sleep(wait)
    try:
        receipt = get_backend(message.channel.kind).send(message)
    except DeliveryError as exc:
        _record_failure(mine(), message, exc.reason, exc.permanent, report)
    except Exception as exc:  # a bug or an unexpected provider answer: retry, loudly
        logger.exception("sending message %s failed unexpectedly", message.pk)
        reason = f"{type(exc).__name__}: {exc}"
        _record_failure(mine(), message, reason, False, report)
    else:
        batch = sent if sent is not None else SentBatch(token, report)
        batch.add(message, receipt.provider_id)
        if sent is None:
            batch.flush()


def _record_failure(
    mine: MessageQuerySet,
    message: Message,
    reason: str,
    permanent: bool,
    report: DispatchReport,
) -> None:
    report.errors.append(f"message {message.pk}: {reason}")
    final = permanent or message.attempts >= settings.MESSAGING_MAX_ATTEMPTS
    if final:
        report.failed += mine.update(
            status=Message.Status.FAILED,
            body=message.body,
            error=reason[:2000],
            claim_token=None,
            lease_until=None,
        )
    elif _run_has_ended(message.run_id):
        report.cancelled += mine.update(
            status=Message.Status.CANCELLED,
            error=f"campaign ended; last attempt: {reason}"[:2000],
            claim_token=None,
            lease_until=None,
        )
    else:
        report.retrying += mine.update(
            status=Message.Status.QUEUED,
            reported_status="",  # a report about the attempt given up is no longer news
            error=reason[:2000],
            not_before=timezone.now() + retry_delay(message.attempts),
            claim_token=None,
            lease_until=None,
        )


def messages_sweep(*, now: dt.datetime | None = None, limit: int = 100_000) -> int:
    """Give back expired claims and queue send tasks for due messages nobody holds.

    Catches what the broker lost, what a dead worker left, retries whose back-off is
    over and deferred messages whose window opened. Messages of cancelled runs are
    cancelled instead. Return the number of send tasks queued.
    """
    from .tasks import send_messages

    now = now or timezone.now()
    # Claims are only taken on due messages: the pending index's time range finds
    # them without reading the messages deferred to later.
    expired = Message.objects.filter(
        Q(not_before__isnull=True) | Q(not_before__lte=now),
        status__in=UNSENT,
        claim_token__isnull=False,
        lease_until__lt=now,
    )
    lost = "no outcome recorded: the worker was lost while sending"
    expired.filter(run__status=CampaignRun.Status.CANCELLED).update(
        status=Message.Status.CANCELLED, error=lost, claim_token=None, lease_until=None
    )
    expired.filter(attempts__gte=settings.MESSAGING_MAX_ATTEMPTS).update(
        status=Message.Status.FAILED, error=lost, claim_token=None, lease_until=None
    )
    expired.update(
        status=Message.Status.QUEUED,
        reported_status="",
        error=f"{lost}; retried",
        claim_token=None,
        lease_until=None,
    )
    due = (
        Message.objects.due(now)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .order_by("run_id", "id")
        .values_list("run_id", "id")[:limit]
    )
    by_run: dict[int, list[int]] = {}
    for run_id, message_id in due:
        by_run.setdefault(run_id, []).append(message_id)
    queued = 0
    size = settings.MESSAGING_DISPATCH_CHUNK
    for run_id, ids in by_run.items():
        for first, last in id_ranges(ids, size):
            Message.objects.filter(run_id=run_id, id__gte=first, id__lte=last).due(
                now
            ).update(lease_until=now + _lease())
            send_messages.delay(run_id, first, last)
            queued += 1
    return queued
