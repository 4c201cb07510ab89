"""Emitting events: what the apps above call, inside the transaction of the change
the event tells of, so that an event exists exactly when its change committed.

``emit`` writes one event, ``emit_many`` any number at once (a worker recording a
hundred sends): the events, and one pending delivery per event and active endpoint
subscribed to its type, set-wise; once the transaction commits, each endpoint that
got deliveries is kicked (a delivery pass queued for it, at most one waiting at a
time: Endpoint.kick_queued).

With no active endpoint subscribed to the types emitted, an emit costs nothing: each
process remembers for a second which types some endpoint subscribes to (forgotten at
once when an endpoint is saved or deleted in it), so an endpoint saved elsewhere gets
the events of changes made from about a second later. Nothing is written then, and
``emit_many`` does not read its events: a generator that builds them is never run.
When a type is subscribed, its endpoints are read in the caller's transaction.
"""

import datetime as dt
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from celery import current_app
from django.db import transaction
from django.utils import timezone

from .models import Delivery, Endpoint, Event, EventType

logger = logging.getLogger(__name__)

# The delivery task's public name (stream.tasks): queued by name, so that emitting
# need not import the tasks module that calls back into delivery.
DELIVER = "stream.tasks.deliver"


@dataclass(frozen=True)
class NewEvent:
    type: str
    data: dict[str, Any] = field(default_factory=dict)
    contact: int | None = None


# How long a process trusts what it read of the subscribed types.
REMEMBER_SECONDS = 1.0
_remembered: dict[str, Any] = {"until": 0.0, "types": frozenset()}


def subscribed_types() -> frozenset[str]:
    """The event types some active endpoint subscribes to, as this process read
    them at most REMEMBER_SECONDS ago."""
    now = time.monotonic()
    if now >= _remembered["until"]:
        _remembered["types"] = frozenset(subscriptions())
        _remembered["until"] = now + REMEMBER_SECONDS
    return frozenset(_remembered["types"])


def subscribed_types_forget(**_: Any) -> None:
    """Read the subscribed types afresh next time (an endpoint was saved)."""
    _remembered["until"] = 0.0


def listened(types: Iterable[str]) -> bool:
    """Whether some active endpoint subscribes to one of ``types`` (see
    subscribed_types): callers may skip preparing events nobody takes."""
    return not subscribed_types().isdisjoint(types)


def subscriptions() -> dict[str, list[int]]:
    """The active endpoints subscribed to each event type, by type: one query on
    the endpoints table (a handful of rows)."""
    found: dict[str, list[int]] = {}
    for pk, types in Endpoint.objects.filter(active=True).values_list(
        "pk", "event_types"
    ):
        for event_type in types or ():
            found.setdefault(event_type, []).append(pk)
    return found


def emit(
    *,
    type: str,
    data: dict[str, Any],
    contact: int | None = None,
    now: dt.datetime | None = None,
) -> int:
    """Emit one event of ``type`` with ``data`` (about ``contact``, a contact's id,
    when it is about one: each endpoint gets one contact's events in order). Call
    it inside the transaction of the change it tells of. Return how many events
    were written (0 when no active endpoint subscribes to ``type``)."""
    return emit_many(events=[NewEvent(type, data, contact)], now=now)


def emit_many(*, events: Iterable[NewEvent], now: dt.datetime | None = None) -> int:
    """Emit ``events`` (see ``emit``), set-wise. ``events`` is read only when an
    active endpoint subscribes to some type: a generator costs nothing otherwise.
    Return how many events were written."""
    if not subscribed_types():
        return 0
    subscribed = subscriptions()
    if not subscribed:
        return 0
    now = now or timezone.now()
    wanted = [event for event in events if event.type in subscribed]
    if not wanted:
        return 0
    with transaction.atomic(savepoint=False):
        written = Event.objects.bulk_create(
            [
                Event(
                    type=event.type,
                    data=event.data,
                    contact_key=event.contact,
                    created_at=now,
                )
                for event in wanted
            ]
        )
        endpoints = deliveries_write(
            events=written, endpoint_ids=lambda e: subscribed[e.type], now=now
        )
    endpoints_kick_on_commit(endpoints)
    return len(written)


def deliveries_write(
    *,
    events: list[Event],
    endpoint_ids: Callable[[Event], Iterable[int]],
    now: dt.datetime,
) -> set[int]:
    """One pending delivery per event and endpoint (``endpoint_ids(event)``), due
    now; return the endpoints that got any."""
    rows = [
        Delivery(
            event_id=event.pk,
            endpoint_id=endpoint_id,
            event_type=event.type,
            contact_key=event.contact_key,
            next_attempt_at=now,
            created_at=now,
        )
        for event in events
        for endpoint_id in endpoint_ids(event)
    ]
    Delivery.objects.bulk_create(rows, batch_size=2000)
    return {row.endpoint_id for row in rows}


def endpoint_test_send(*, endpoint: Endpoint, now: dt.datetime | None = None) -> Event:
    """Send ``endpoint`` a test event, whatever it subscribes to (its "Send a test
    event" button): delivered, signed and recorded like any other."""
    now = now or timezone.now()
    with transaction.atomic():
        event = Event.objects.create(
            type=EventType.ENDPOINT_TEST,
            data={
                "endpoint": endpoint.pk,
                "url": endpoint.url,
                "message": "A test event from Flowcast: this endpoint receives its "
                "events.",
            },
            created_at=now,
        )
        deliveries_write(events=[event], endpoint_ids=lambda _: [endpoint.pk], now=now)
        endpoints_kick_on_commit({endpoint.pk})
    return event


def endpoints_kick_on_commit(endpoint_ids: Iterable[int]) -> None:
    ids = sorted(set(endpoint_ids))
    if ids:
        transaction.on_commit(lambda: endpoints_kick(ids), robust=True)


def endpoints_kick(endpoint_ids: Iterable[int], *, force: bool = False) -> int:
    """Queue a delivery pass for each endpoint unless one is queued already (or,
    with ``force``, the sweeper's, whatever the flag says: a queued pass may have
    been lost). Return how many were queued."""
    queued = 0
    for endpoint_id in endpoint_ids:
        flagged = Endpoint.objects.filter(pk=endpoint_id, kick_queued=False).update(
            kick_queued=True
        )
        if not (flagged or force):
            continue
        try:
            current_app.signature(DELIVER, args=(endpoint_id,)).delay()
        except Exception:  # the broker is away: the sweeper queues it later
            logger.exception("could not queue the delivery of endpoint %s", endpoint_id)
            Endpoint.objects.filter(pk=endpoint_id).update(kick_queued=False)
            continue
        queued += 1
    return queued
