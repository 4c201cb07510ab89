"""Sending: hand a range of a batch's messages to their channels' backends.

A worker claims the range (messaging.claims), renders each message from its batch's
template and checks its active hours, hands it to its channel's backend with the
message id as idempotency key (messaging.delivery: many in flight at once for HTTP
providers, within the channel's cap and rate), and records the outcome
(messaging.recording).
Nothing is deferred through the broker: ``not_before`` in the database says when a
retried or out-of-hours message is due, and the sweeper queues it then.

With messaging.recording, the only writer of Message.status but for what providers
report back (receipts.py: delivered, failed after sent, skipped on opt-out) and what
stops a batch (outbox.batches_stop).
"""

import datetime as dt
import logging
import time
import uuid
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import F
from django.utils import timezone

from audiences.zones import contact_zone

from .backends import Bounce
from .bounces import bounce_suppress, bounce_verdict
from .capping import caps_hold
from .claims import claim, claims_release, defer_outside_hours, in_range
from .delivery import Courier, Outcome
from .models import Batch, Channel, Message, MessageQuerySet
from .optouts import opt_out_forget, opt_outs_listen
from .queueing import send_range
from .recording import SentBatch, messages_fail, record_failure
from .rendering import render
from .suppressed import messages_stopped
from .windows import ActiveHours, WindowsNeverMeet

logger = logging.getLogger(__name__)

# How often a worker sending a chunk looks whether its batch was stopped meanwhile
# (a campaign finished, a flow archived) and who opted out.
STOP_CHECK_SECONDS = 1.0


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


def retry_delay(attempts: int) -> dt.timedelta:
    """Back off 30 s, 1 min, 2 min, ... up to an hour after the n-th failed attempt."""
    return dt.timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 3600))


def batch_stop_reason(batch_id: int) -> str | None:
    """Why the batch's messages must no longer go out, read now; None while they
    may."""
    stopped = (
        Batch.objects.filter(pk=batch_id, stopped_at__isnull=False)
        .values_list("stop_reason", flat=True)
        .first()
    )
    return None if stopped is None else stopped or "stopped"


def messages_send_range(
    *, batch_id: int, first_id: int, last_id: int, now: dt.datetime | None = None
) -> DispatchReport:
    """Claim the due messages of batch ``batch_id`` with ids in [first_id, last_id]
    and send them.

    Safe to call twice for the same range: rows already claimed or finished are left
    alone.
    """
    now = now or timezone.now()
    report = DispatchReport()
    batch = Batch.objects.filter(pk=batch_id).first()
    if batch is None:
        return report
    messages_of_range = in_range(batch_id, first_id, last_id)
    if batch.stopped_at is not None:
        report.cancelled = _cancel_waiting(messages_of_range, batch.stop_reason)
        return report
    hours = batch.active_hours()
    # Most installations have few channels with a sending window: ask the small
    # channels table before the big messages one.
    if (
        hours.own is not None
        or hours.per_contact
        or Channel.objects.filter(active_from__isnull=False).exists()
    ):
        deferred, failed = defer_outside_hours(messages_of_range, now, hours)
        report.deferred += deferred
        report.failed += failed
    token = uuid.uuid4()
    opt_outs_listen()  # from before the claim: every later opt-out is heard
    messages = claim(batch, first_id, last_id, token, now)
    if not messages:
        return report
    mine = messages_of_range.filter(claim_token=token)
    # Opted out or suppressed since the fan-out (a STOP reply): skipped, not sent.
    opted_out = [m.pk for m in messages if m.contact.opted_out_at is not None]
    suppressed = [
        m.pk for m in messages if m.suppressed and m.contact.opted_out_at is None
    ]
    for stopped, why in ((opted_out, "opted out"), (suppressed, "suppressed")):
        if stopped:
            report.skipped += mine.filter(pk__in=stopped).update(
                status=Message.Status.SKIPPED,
                error=why,
                claim_token=None,
                lease_until=None,
            )
    if opted_out or suppressed:
        gone = {*opted_out, *suppressed}
        messages = [m for m in messages if m.pk not in gone]
    # A frequency cap holds a marketing message until the contact is under it.
    messages, held = caps_hold(batch=batch, messages=messages, token=token, now=now)
    report.deferred += held
    began = checked_at = time.monotonic()

    def clock() -> dt.datetime:
        return now + dt.timedelta(seconds=time.monotonic() - began)

    sent = SentBatch(token, report)
    courier = Courier(
        deadline=time.monotonic() + settings.MESSAGING_TASK_BUDGET_SECONDS
    )
    skipped: set[int] = set()
    budget = settings.MESSAGING_TASK_BUDGET_SECONDS

    def record(outcomes: list[Outcome]) -> None:
        for outcome in outcomes:
            if outcome.opted_out:
                opting.append(outcome.message)
            elif outcome.later:
                put_back.append((outcome.message, outcome.later))
            elif outcome.later is not None:
                given_back.append(outcome.message)  # for a fresh task, now
            else:
                _record(outcome, token, report, sent)
        sent.flush_if_due()

    given_back: list[Message] = []
    put_back: list[tuple[Message, float]] = []
    opting: list[Message] = []
    try:
        for index, message in enumerate(messages):
            if time.monotonic() - began > budget:
                # A slow provider or a tight rate limit: hand the rest of the chunk
                # to a fresh task rather than run into the task's time limit.
                given_back += messages[index:]
                break
            if time.monotonic() - checked_at >= STOP_CHECK_SECONDS:
                # A stop (a campaign finished) must end a long chunk too, not only
                # the next one.
                checked_at = time.monotonic()
                reason = batch_stop_reason(batch_id)
                if reason is not None:
                    record(courier.finish())
                    sent.flush()  # what went out is recorded as sent, not cancelled
                    report.cancelled += mine.update(
                        status=Message.Status.CANCELLED,
                        error=reason,
                        claim_token=None,
                        lease_until=None,
                    )
                    break
                skipped |= _opted_out_since_claim(messages[index:], token, report)
            if message.pk in skipped:
                continue
            if _ready(message, batch, token, clock(), report, hours):
                record(courier.send(message))
            else:
                record(courier.finished())
    finally:
        record(courier.close())
    sent.flush()
    if opting:
        given_back += _skip_opted_out(opting, token, report)
    if put_back:
        _put_back(put_back, token, report)
    if given_back:
        _hand_on(given_back, token, batch_id, report)
    return report


def _cancel_waiting(messages: MessageQuerySet, reason: str) -> int:
    return messages.filter(
        status__in=(Message.Status.QUEUED, Message.Status.DEFERRED),
        claim_token__isnull=True,
    ).update(
        status=Message.Status.CANCELLED, error=reason or "stopped", lease_until=None
    )


def _opted_out_since_claim(
    rest: list[Message], token: uuid.UUID, report: DispatchReport
) -> set[int]:
    """Skip the messages of ``rest`` whose contact opted out (a STOP reply) or
    whose channel's address was suppressed since they were claimed: a long chunk
    (a slow provider, a rate limit) must not send them. Return their ids."""
    stopped = messages_stopped(rest)
    _skip(stopped, token, report)
    return set(stopped)


def _skip(stopped: dict[int, str], token: uuid.UUID, report: DispatchReport) -> None:
    """Skip the messages held under ``token`` by id, each with its reason."""
    for why in set(stopped.values()):
        report.skipped += Message.objects.filter(
            pk__in=[pk for pk, said in stopped.items() if said == why],
            claim_token=token,
        ).update(
            status=Message.Status.SKIPPED,
            error=why,
            claim_token=None,
            lease_until=None,
        )


def _hand_on(
    rest: list[Message], token: uuid.UUID, batch_id: int, report: DispatchReport
) -> None:
    released = claims_release(rest, token)
    report.released += released
    if released:
        ids = [message.pk for message in rest]
        send_range(batch_id=batch_id, low=min(ids), high=max(ids))


def _ready(
    message: Message,
    batch: Batch,
    token: uuid.UUID,
    now: dt.datetime,
    report: DispatchReport,
    hours: ActiveHours,
) -> bool:
    """Whether ``message`` may go now, rendered from its batch's template; one that
    may not is deferred to its hours or failed, and False returned."""

    def mine() -> MessageQuerySet:
        return Message.objects.filter(pk=message.pk, claim_token=token)

    # A window may close while a chunk is being sent: check again, per message.
    zone = (
        contact_zone(message.contact.phone, message.contact.timezone)
        if hours.per_contact
        else None
    )
    try:
        opens_at = hours.opens_at(message.channel, now, zone)
    except WindowsNeverMeet as exc:
        report.failed += messages_fail(
            mine(), str(exc), claim_token=None, lease_until=None
        )
        return False
    if opens_at is not None:
        report.deferred += mine().update(
            status=Message.Status.DEFERRED,
            reported_status="",
            not_before=opens_at,
            attempts=F("attempts") - 1,
            claim_token=None,
            lease_until=None,
        )
        return False
    template = batch.template(message.step)
    if template is None:
        report.failed += messages_fail(
            mine(),
            "flow step not found in version",
            claim_token=None,
            lease_until=None,
        )
        return False
    message.body = render(template.get("body") or "", message.contact, message.context)
    message.media_url = template.get("media_url") or ""
    return True


def _skip_opted_out(
    messages: list[Message], token: uuid.UUID, report: DispatchReport
) -> list[Message]:
    """Skip the messages whose contact's opt-out (or their channel's address's
    suppression) stopped them just before their send. Return those not stopped by
    what committed: an opt-out commits in a moment, so by now it rolled back (or it
    suppressed another kind of address: an email, for an SMS); they are handed on
    and sent."""
    stopped = messages_stopped(messages)
    _skip(stopped, token, report)
    uncommitted = [m for m in messages if m.pk not in stopped]
    opt_out_forget([m.contact_id for m in uncommitted])
    return uncommitted


def _put_back(
    held: list[tuple[Message, float]], token: uuid.UUID, report: DispatchReport
) -> None:
    """Put back the messages a busy or hanging provider did not take, due again
    when its pause is over; their attempts are not spent."""
    now = timezone.now()
    longest = max(later for _, later in held)
    report.released += claims_release(
        [message for message, _ in held],
        token,
        not_before=now + dt.timedelta(seconds=longest),
    )


def _record(
    outcome: Outcome, token: uuid.UUID, report: DispatchReport, sent: SentBatch
) -> None:
    message = outcome.message
    if outcome.receipt is not None:
        sent.add(message, outcome.receipt.provider_id)
        return
    mine = Message.objects.filter(pk=message.pk, claim_token=token)
    if outcome.error is not None:
        error = outcome.error
        _failed(mine, message, error.reason, error.permanent, report, error.bounce)
    else:
        exc = outcome.crash
        logger.error("sending message %s failed unexpectedly", message.pk, exc_info=exc)
        _failed(mine, message, f"{type(exc).__name__}: {exc}", False, report)


def _failed(
    mine: MessageQuerySet,
    message: Message,
    reason: str,
    permanent: bool,
    report: DispatchReport,
    bounce: Bounce | None = None,
) -> None:
    report.errors.append(f"message {message.pk}: {reason}")
    final = permanent or message.attempts >= settings.MESSAGING_MAX_ATTEMPTS
    verdict = None
    if final and bounce is not None:
        verdict = bounce_verdict(
            bounce,
            reason,
            channel=message.channel,
            message_id=message.pk,
            contact_id=message.contact_id,
        )
        reason = verdict.error
    outcome, count = record_failure(
        mine,
        message,
        reason,
        final=final,
        stopped=batch_stop_reason(message.batch_id),
        retry_at=timezone.now() + retry_delay(message.attempts),
    )
    if verdict is not None and outcome == "failed" and count:
        bounce_suppress(verdict)
    setattr(report, outcome, getattr(report, outcome) + count)
