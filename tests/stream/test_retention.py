"""Retention: events past STREAM_RETENTION_DAYS go with their deliveries and
attempts, unless a delivery of theirs still waits."""

import datetime as dt
from collections.abc import Callable

from django.test import override_settings

from stream.emitting import emit
from stream.models import Attempt, Delivery, Endpoint, Event
from stream.retention import events_prune
from tests.stream.conftest import Receiver, deliver

Clock = Callable[..., dt.datetime]


@override_settings(STREAM_RETENTION_DAYS=30)
def test_old_events_go_with_their_deliveries_unless_one_still_waits(
    endpoint: Endpoint, receiver: Receiver, clock: Clock
) -> None:
    emit(type="message.sent", data={"n": 0}, contact=1, now=clock(days=-40))
    deliver(endpoint, clock(days=-40))
    emit(type="message.sent", data={"n": 1}, contact=2, now=clock(days=-40))
    emit(type="message.sent", data={"n": 2}, contact=3, now=clock(days=-1))
    assert Attempt.objects.count() == 1

    assert events_prune(now=clock()) == 1
    kept = sorted(Event.objects.values_list("data__n", flat=True))

    # The delivered old one went, attempts and all; the old one still waiting and
    # the recent one stay.
    assert kept == [1, 2]
    assert Attempt.objects.count() == 0
    assert Delivery.objects.count() == 2


@override_settings(STREAM_RETENTION_DAYS=0)
def test_a_retention_of_0_keeps_everything(
    make_endpoint: Callable[..., Endpoint], clock: Clock
) -> None:
    make_endpoint("https://a.example.com/in")
    emit(type="message.sent", data={}, now=clock(days=-4000))

    assert events_prune(now=clock()) == 0
    assert Event.objects.count() == 1
