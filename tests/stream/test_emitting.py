"""Emitting: events and their deliveries written in the caller's transaction, for
the active endpoints subscribed to their type; nothing, and next to no cost, when
none is."""

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from stream.emitting import NewEvent, emit, emit_many, endpoint_test_send
from stream.models import Delivery, Endpoint, Event, EventType

Clock = Callable[..., dt.datetime]


def test_an_event_gets_a_delivery_for_each_active_endpoint_subscribed_to_it(
    make_endpoint: Callable[..., Endpoint], clock: Clock
) -> None:
    both = make_endpoint("https://a.example.com/in")
    replies = make_endpoint("https://b.example.com/in", types=["reply.received"])
    make_endpoint("https://c.example.com/in", active=False)

    assert emit(type="message.sent", data={"message": 1}, contact=5, now=clock()) == 1
    assert emit(type="reply.received", data={"reply": 2}, contact=5) == 1

    sent, reply = Event.objects.order_by("id")
    assert (sent.type, sent.data, sent.contact_key) == (
        "message.sent",
        {"message": 1},
        5,
    )
    assert sent.created_at == clock()
    assert sorted(Delivery.objects.values_list("event_id", "endpoint_id")) == sorted(
        [(sent.pk, both.pk), (reply.pk, both.pk), (reply.pk, replies.pk)]
    )
    delivery = Delivery.objects.get(event=sent)
    assert (delivery.status, delivery.event_type, delivery.contact_key) == (
        "pending",
        "message.sent",
        5,
    )
    assert delivery.next_attempt_at == clock()


def test_with_no_endpoint_subscribed_emit_writes_nothing_and_builds_nothing(
    make_endpoint: Callable[..., Endpoint],
) -> None:
    make_endpoint("https://a.example.com/in", types=["import.finished"])
    built: list[int] = []

    def events() -> Iterator[NewEvent]:
        built.append(1)
        yield NewEvent("message.sent", {})

    with CaptureQueriesContext(connection) as no_one:
        assert emit(type="message.sent", data={}) == 0
    Endpoint.objects.all().delete()
    with CaptureQueriesContext(connection) as first:
        assert emit_many(events=events()) == 0
    with CaptureQueriesContext(connection) as then:
        assert emit_many(events=events()) == 0

    # The endpoints table is read, nothing else; with no endpoint at all, once a
    # second per process (an endpoint saved here is seen at once), and the events
    # are not even built.
    assert {q["sql"].split("FROM")[1].split()[0] for q in no_one} == {
        '"stream_endpoint"'
    }
    assert len(first.captured_queries) == 1
    assert len(then.captured_queries) == 0
    assert built == []
    assert not Event.objects.exists()


def test_an_event_of_a_change_that_rolled_back_is_gone_with_it(
    make_endpoint: Callable[..., Endpoint],
) -> None:
    make_endpoint("https://a.example.com/in")

    def change() -> None:
        with transaction.atomic():
            emit(type="contact.opted_out", data={}, contact=1)
            raise RuntimeError("the change failed")

    with pytest.raises(RuntimeError):
        change()

    assert not Event.objects.exists()
    assert not Delivery.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_one_delivery_pass_is_queued_per_endpoint_after_commit_not_before(
    make_endpoint: Callable[..., Endpoint], redis_client: Any
) -> None:
    endpoint = make_endpoint("https://a.example.com/in")

    with transaction.atomic():
        emit_many(events=[NewEvent("message.sent", {}, n) for n in range(50)])
        assert redis_client.llen("celery") == 0  # not before the commit
    with transaction.atomic():
        emit(type="message.sent", data={})

    assert redis_client.llen("celery") == 1  # the second waits for the first
    endpoint.refresh_from_db()
    assert endpoint.kick_queued
    assert Delivery.objects.count() == 51


def test_a_test_event_goes_to_its_endpoint_whatever_it_subscribes_to(
    make_endpoint: Callable[..., Endpoint],
) -> None:
    endpoint = make_endpoint("https://a.example.com/in", types=["run.finished"])
    make_endpoint("https://b.example.com/in")

    event = endpoint_test_send(endpoint=endpoint)

    assert event.type == EventType.ENDPOINT_TEST
    assert list(Delivery.objects.values_list("endpoint_id", flat=True)) == [endpoint.pk]
