"""Delivering events to an endpoint: signed POSTs, many in flight, each contact's
events one after the other, with retries and back-off.

One worker delivers an endpoint at a time: a pass takes a lease on the endpoint's
row (a conditional UPDATE, on PostgreSQL and SQLite alike) and gives it back when
done. A pass takes the endpoint's pending deliveries in id order, in batches, and
groups them by contact: each contact's chain goes out in order, one post after the
other, while different contacts' chains go concurrently (up to
STREAM_MAX_IN_FLIGHT posts in flight, on the process's sending loop, base.loop, with
keep-alive connections). A contact whose earliest pending delivery is not due (it
waits for a retry) gets nothing later until that one is delivered or given up, so
an endpoint never sees one contact's events out of order.

Each post is signed as Standard Webhooks says (base.signing): ``webhook-id``
(``evt_<event id>``, the same on every retry), ``webhook-timestamp`` and
``webhook-signature`` made with the endpoint's secrets in force. A 2xx answer
delivers; anything else, or no answer within STREAM_HTTP_TIMEOUT, is an attempt and
a retry later (5 s, 10 s, 20 s ... up to an hour), until STREAM_GIVE_UP_HOURS after
the event, when the delivery is given up (failed). Redirects are not followed, and
no post reaches inside (base.outbound: the URL when saved, the addresses when each
connection is opened).

An endpoint that looks down (no connection, time-outs, 5xx, 429) is paused: nothing
more goes to it in this pass, and the next pass, once the pause is over (5 s, then
doubling, at most STREAM_MAX_PAUSE_SECONDS; a Retry-After is taken at its word, up
to an hour), probes it with one post. When a probe is answered, everything waiting
for the endpoint is due at once: a receiver back after an hour gets its backlog
within STREAM_MAX_PAUSE_SECONDS, in order per contact.
"""

import datetime as dt
import json
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from base.loop import wait_for
from base.outbound import url_refusal

from .emitting import endpoints_kick
from .models import Attempt, Delivery, Endpoint, Event, event_body
from .posting import Due, Result, post_chains
from .secrets import endpoint_secrets

logger = logging.getLogger(__name__)

# A pass holds its endpoint this long at most without renewing (it renews after
# each batch, and a batch ends within its deadline and a time-out); a worker lost
# mid-pass leaves the endpoint to the next pass after that.
LEASE = dt.timedelta(minutes=3)
# A pass that has run this long ends and queues the next, well inside the lease.
PASS_SECONDS = 60.0
# Deliveries taken together; pending rows looked at to find them, at most (rows of
# contacts waiting for a retry are passed over).
BATCH = 500
SCAN = 20 * BATCH
# An endpoint that looks down is paused this long, then twice as long each time.
FIRST_PAUSE_SECONDS = 5.0
# A delivery's own back-off after its n-th failed attempt: 5 s doubling, to 1 h.
FIRST_RETRY_SECONDS = 5
LONGEST_RETRY_SECONDS = 3600


@dataclass
class PassReport:
    taken: bool = False
    delivered: int = 0
    retrying: int = 0
    failed: int = 0
    paused_for: float | None = None
    errors: list[str] = field(default_factory=list)


def retry_delay(attempts: int) -> dt.timedelta:
    """How long a delivery waits after its ``attempts``-th failed attempt."""
    seconds = FIRST_RETRY_SECONDS * 2 ** max(attempts - 1, 0)
    return dt.timedelta(seconds=min(seconds, LONGEST_RETRY_SECONDS))


def pause_for(pauses: int) -> float:
    """How long an endpoint that looks down is left alone at its ``pauses``-th
    pause in a row."""
    seconds = FIRST_PAUSE_SECONDS * 2 ** max(pauses - 1, 0)
    return float(min(seconds, settings.STREAM_MAX_PAUSE_SECONDS))


def give_up_after() -> dt.timedelta:
    return dt.timedelta(hours=settings.STREAM_GIVE_UP_HOURS)


def endpoint_deliver(
    *, endpoint_id: int, now: dt.datetime | None = None, budget: float = PASS_SECONDS
) -> PassReport:
    """Deliver what is due to the endpoint, batch after batch, for ``budget``
    seconds at most; then, if more is due, queue the next pass. Does nothing while
    another pass holds the endpoint, or while it is paused or inactive.

    ``now`` drives the clock (tests): every decision and record of the pass is
    made at that time."""

    def clock() -> dt.datetime:
        return now or timezone.now()

    report = PassReport()
    # From here on an emit queues a pass again: none of its deliveries is missed.
    Endpoint.objects.filter(pk=endpoint_id, kick_queued=True).update(kick_queued=False)
    token = uuid.uuid4()
    if not _lease_take(endpoint_id, token, clock()):
        return report
    report.taken = True
    began = time.monotonic()
    try:
        while time.monotonic() - began < budget:
            at = clock()
            endpoint = Endpoint.objects.filter(pk=endpoint_id, active=True).first()
            if endpoint is None or (
                endpoint.paused_until is not None and endpoint.paused_until > at
            ):
                break
            chains = due_chains(endpoint_id=endpoint_id, now=at)
            if not chains:
                break
            results, down = _send(endpoint, chains, began + budget, at, clock)
            _record(endpoint, results, down, at, report)
            if report.paused_for is not None:
                break
            Endpoint.objects.filter(pk=endpoint_id, lease_token=token).update(
                lease_until=clock() + LEASE
            )
    finally:
        Endpoint.objects.filter(pk=endpoint_id, lease_token=token).update(
            lease_token=None, lease_until=None
        )
    if report.paused_for is None and due_exists(endpoint_id=endpoint_id, now=clock()):
        endpoints_kick([endpoint_id])
    return report


def _lease_take(endpoint_id: int, token: uuid.UUID, now: dt.datetime) -> bool:
    return bool(
        Endpoint.objects.filter(pk=endpoint_id, active=True)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .filter(Q(paused_until__isnull=True) | Q(paused_until__lte=now))
        .update(lease_token=token, lease_until=now + LEASE)
    )


def due_exists(*, endpoint_id: int, now: dt.datetime) -> bool:
    return Delivery.objects.filter(
        endpoint_id=endpoint_id,
        status=Delivery.Status.PENDING,
        next_attempt_at__lte=now,
    ).exists()


def due_chains(
    *, endpoint_id: int, now: dt.datetime, limit: int = BATCH
) -> list[list[Due]]:
    """Up to ``limit`` due deliveries of the endpoint, as chains per contact (in id
    order within each, the chains in the order of their first), leaving out every
    delivery of a contact with an earlier pending one that is not due. Events about
    no contact are chains of their own."""
    chains: dict[object, list[Due]] = {}
    waiting: set[int] = set()
    taken = scanned = 0
    after = 0
    pending = Delivery.objects.filter(
        endpoint_id=endpoint_id, status=Delivery.Status.PENDING
    ).order_by("id")
    while taken < limit and scanned < SCAN:
        rows = list(
            pending.filter(id__gt=after).values_list(
                "id",
                "event_id",
                "contact_key",
                "attempts",
                "next_attempt_at",
                "created_at",
            )[:limit]
        )
        for pk, event_id, contact, attempts, next_at, created_at in rows:
            if contact is not None and contact in waiting:
                continue
            if next_at > now:
                if contact is not None:
                    waiting.add(contact)
                continue
            key: object = contact if contact is not None else ("event", pk)
            chains.setdefault(key, []).append(
                Due(pk, event_id, contact, attempts, created_at)
            )
            taken += 1
            if taken >= limit:
                break
        scanned += len(rows)
        if len(rows) < limit:
            break
        after = rows[-1][0]
    return list(chains.values())


def _bodies(chains: list[list[Due]]) -> dict[int, bytes]:
    ids = [due.event_id for chain in chains for due in chain]
    return {
        pk: json.dumps(
            event_body(kind, created_at, data),
            ensure_ascii=False,
            separators=(",", ":"),
        ).encode()
        for pk, kind, created_at, data in Event.objects.filter(pk__in=ids).values_list(
            "id", "type", "created_at", "data"
        )
    }


def _send(
    endpoint: Endpoint,
    chains: list[list[Due]],
    deadline: float,
    at: dt.datetime,
    clock: Callable[[], dt.datetime],
) -> tuple[list[Result], bool]:
    """Post the chains (posting.post_chains); their results, and whether the
    endpoint looks down. A URL refused now (it points inside) is answered for the
    first delivery alone, as an endpoint down."""
    refused = url_refusal(endpoint.url, resolve=False)
    if refused:
        error = f"The endpoint's URL is refused: {refused}"
        return [Result(chains[0][0], at, error=error, down=True)], True
    secrets = endpoint_secrets(endpoint, now=at)
    if not secrets:
        error = "The endpoint has no signing secret: rotate its secret."
        return [Result(chains[0][0], at, error=error, down=True)], True
    return wait_for(
        post_chains(
            endpoint.url,
            chains,
            _bodies(chains),
            secrets,
            deadline=deadline,
            probing=endpoint.failing_since is not None,
            clock=clock,
        )
    )


def _record(
    endpoint: Endpoint,
    results: list[Result],
    looks_down: bool,
    at: dt.datetime,
    report: PassReport,
) -> None:
    """What the posts came to, set-wise, in one transaction: an attempt row each,
    the deliveries delivered or retried or given up, and the endpoint's state."""
    if not results:
        return
    limit = give_up_after()
    delivered: dict[int | None, list[int]] = {}
    retried: list[Delivery] = []
    for result in results:
        due = result.due
        if result.ok:
            delivered.setdefault(result.status, []).append(due.delivery_id)
            continue
        attempts = due.attempts + 1
        next_at = result.at + retry_delay(attempts)
        final = next_at - due.created_at > limit
        retried.append(
            Delivery(
                pk=due.delivery_id,
                attempts=attempts,
                status=Delivery.Status.FAILED if final else Delivery.Status.PENDING,
                next_attempt_at=next_at,
                last_status_code=result.status,
                last_error=(
                    f"Given up after {settings.STREAM_GIVE_UP_HOURS} hours: "
                    f"{result.error}"
                    if final
                    else result.error
                )[:2000],
            )
        )
        report.failed += final
        report.retrying += not final
        report.errors.append(f"delivery {due.delivery_id}: {result.error}")
    with transaction.atomic():
        Attempt.objects.bulk_create(
            [
                Attempt(
                    delivery_id=result.due.delivery_id,
                    at=result.at,
                    duration_ms=result.duration_ms,
                    response_status=result.status,
                    response_excerpt=result.excerpt,
                    error=result.error[:2000],
                )
                for result in results
            ],
            batch_size=1000,
        )
        for status, ids in delivered.items():
            report.delivered += Delivery.objects.filter(
                pk__in=ids, status=Delivery.Status.PENDING
            ).update(
                status=Delivery.Status.DELIVERED,
                delivered_at=at,
                attempts=F("attempts") + 1,
                last_status_code=status,
                last_error="",
            )
        if retried:
            Delivery.objects.bulk_update(
                retried,
                [
                    "attempts",
                    "status",
                    "next_attempt_at",
                    "last_status_code",
                    "last_error",
                ],
                batch_size=500,
            )
        down = [result for result in results if result.down] if looks_down else []
        _endpoint_note(endpoint, results, down, at, report)


def _endpoint_note(
    endpoint: Endpoint,
    results: list[Result],
    down: list[Result],
    at: dt.datetime,
    report: PassReport,
) -> None:
    """The endpoint's state after a batch: paused when it looks down; back (its
    waiting deliveries due at once) when it answered after looking down."""
    mine = Endpoint.objects.filter(pk=endpoint.pk)
    answered = any(result.ok for result in results)
    if down:
        asked = [r.retry_after for r in down if r.retry_after is not None]
        pauses = endpoint.pauses + 1
        seconds = max(asked) if asked else pause_for(pauses)
        report.paused_for = seconds
        endpoint.paused_until = at + dt.timedelta(seconds=seconds)
        endpoint.failing_since = endpoint.failing_since or at
        endpoint.pauses = pauses
        endpoint.last_error = down[-1].error[:2000]
        mine.update(
            paused_until=endpoint.paused_until,
            failing_since=endpoint.failing_since,
            pauses=pauses,
            last_error=endpoint.last_error,
            **({"last_delivered_at": at} if answered else {}),
        )
        logger.warning(
            "endpoint %s looks down (%s): paused for %.0f s",
            endpoint.pk,
            endpoint.last_error,
            seconds,
        )
        return
    if endpoint.failing_since is not None and answered:
        # Back: what waited for it (its retries spaced out meanwhile) is due now.
        Delivery.objects.filter(
            endpoint_id=endpoint.pk,
            status=Delivery.Status.PENDING,
            next_attempt_at__gt=at,
        ).update(next_attempt_at=at)
        logger.info(
            "endpoint %s answers again after looking down since %s",
            endpoint.pk,
            endpoint.failing_since,
        )
        endpoint.failing_since = endpoint.paused_until = None
        endpoint.pauses = 0
        endpoint.last_error = ""
        mine.update(
            failing_since=None,
            paused_until=None,
            pauses=0,
            last_error="",
            last_delivered_at=at,
        )
    elif answered:
        mine.update(last_delivered_at=at)
