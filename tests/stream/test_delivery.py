"""Delivering events: signed posts verified by the standardwebhooks library, each
contact's events in order, retries and back-off, endpoint pauses and probes, and
giving up."""

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from django.test import override_settings
from pytest_httpserver import HTTPServer

from stream.delivery import endpoint_deliver
from stream.emitting import NewEvent, emit, emit_many
from stream.models import Attempt, Delivery, Endpoint, Event, EventType
from stream.sweep import deliveries_sweep
from tests.stream.conftest import Receiver, deliver

Clock = Callable[..., dt.datetime]
DELIVERED = EventType.MESSAGE_DELIVERED


def emit_numbered(
    contacts: Sequence[int | None], now: dt.datetime, start: int = 0
) -> None:
    """One event per entry, numbered in order from ``start`` (data ``n``), about
    that contact."""
    emit_many(
        events=[
            NewEvent(DELIVERED, {"n": n, "contact": contact}, contact)
            for n, contact in enumerate(contacts, start=start)
        ],
        now=now,
    )


def by_contact(receiver: Receiver) -> dict[int | None, list[int]]:
    found: dict[int | None, list[int]] = {}
    for post in receiver.posts:
        found.setdefault(post["data"]["contact"], []).append(post["data"]["n"])
    return found


def test_every_post_is_verified_by_standardwebhooks_and_shaped_as_it_says(
    endpoint: Endpoint, receiver: Receiver, clock: Clock
) -> None:
    for type in (EventType.MESSAGE_SENT, EventType.RUN_FINISHED):
        emit(type=type, data={"n": 1, "contact": 7}, contact=7, now=clock())

    report = deliver(endpoint, clock())

    assert report.delivered == 2
    assert [post["type"] for post in receiver.posts] == [
        "message.sent",
        "run.finished",
    ]
    for post, headers in zip(receiver.posts, receiver.headers, strict=True):
        assert set(post) == {"type", "timestamp", "data"}
        assert post["timestamp"].endswith("Z")
        assert dt.datetime.fromisoformat(post["timestamp"]) == clock()
        event = Event.objects.get(type=post["type"])
        assert headers["Webhook-Id"] == f"evt_{event.pk}"
        assert headers["Webhook-Signature"].startswith("v1,")
        assert headers["Content-Type"] == "application/json"
    assert set(Delivery.objects.values_list("status", flat=True)) == {"delivered"}
    assert Attempt.objects.filter(response_status=200).count() == 2
    assert (
        Attempt.objects.get(
            response_status=200, delivery__event__type="run.finished"
        ).response_excerpt
        == '{"ok": true}'
    )


def test_each_contacts_events_arrive_in_order_while_contacts_interleave(
    endpoint: Endpoint, receiver: Receiver, clock: Clock
) -> None:
    contacts = [1, 2, 1, 3, 2, 1, None, 3, 1, 2, None] * 20
    emit_numbered(contacts, clock())
    first_of_1 = [True]

    def answer(post: dict[str, Any]) -> tuple[int, dict[str, str]]:
        # Contact 1's first event is refused once: its later ones must wait.
        if post["data"]["contact"] == 1 and first_of_1[0]:
            first_of_1[0] = False
            return 500, {}
        return 200, {}

    receiver.answer = answer

    deliver(endpoint, clock())

    got = by_contact(receiver)
    assert 1 not in got  # held behind its refused first event
    for contact in (2, 3, None):
        expected = [n for n, c in enumerate(contacts) if c == contact]
        assert got[contact] == expected
    held = Delivery.objects.filter(status="pending")
    assert held.count() == contacts.count(1)
    assert held.earliest("id").attempts == 1

    # Its retry is due 5 s later: then all of contact 1's, in order.
    deliver(endpoint, clock(seconds=6))

    assert by_contact(receiver)[1] == [n for n, c in enumerate(contacts) if c == 1]
    assert not Delivery.objects.filter(status="pending").exists()


def test_a_receiver_down_for_an_hour_gets_everything_in_order_once_back(
    endpoint: Endpoint, receiver: Receiver, httpserver: HTTPServer, clock: Clock
) -> None:
    contacts = [n % 7 for n in range(300)]
    emit_numbered(contacts[:100], clock())
    httpserver.stop()  # connections refused

    report = deliver(endpoint, clock())

    assert report.delivered == 0
    assert report.paused_for == 5
    endpoint.refresh_from_db()
    assert endpoint.failing_since == clock()
    assert "Could not be reached" in endpoint.last_error
    # Paused: nothing is tried before the pause is over.
    assert not deliver(endpoint, clock(seconds=4)).taken

    # An hour of probes, one post each, while it answers 503; more events come.
    httpserver.start()
    receiver.answer = lambda _: (503, {})
    minute = 0.0
    probes = 0
    while minute < 60:
        minute += 0.5
        now = clock(minutes=minute)
        if minute == 30:
            emit_numbered(contacts[100:], now, start=100)
        if deliver(endpoint, now).taken:
            probes += 1
    endpoint.refresh_from_db()
    assert endpoint.pauses == probes + 1
    # Probed at most STREAM_MAX_PAUSE_SECONDS (5 min) apart: about a dozen in the
    # hour, not a post per event.
    assert 12 <= probes <= 20
    assert Attempt.objects.count() < 100 + probes
    assert receiver.posts == []

    # Back: the next probe finds it, and the whole backlog goes at once.
    receiver.answer = lambda _: (200, {})
    back = clock(minutes=65)
    deliver(endpoint, back)

    got = by_contact(receiver)
    for contact in range(7):
        assert got[contact] == [n for n, c in enumerate(contacts) if c == contact]
    assert Delivery.objects.filter(status="delivered").count() == 300
    endpoint.refresh_from_db()
    assert endpoint.failing_since is None
    assert endpoint.pauses == 0


def test_a_retry_after_is_taken_at_its_word(
    endpoint: Endpoint, receiver: Receiver, clock: Clock
) -> None:
    emit_numbered([1, 2], clock())
    receiver.answer = lambda _: (429, {"Retry-After": "120"})

    report = deliver(endpoint, clock())

    assert report.paused_for == 120
    endpoint.refresh_from_db()
    assert endpoint.paused_until == clock(seconds=120)
    assert not deliver(endpoint, clock(seconds=119)).taken
    receiver.answer = lambda _: (200, {})
    assert deliver(endpoint, clock(seconds=120)).delivered == 2


def test_the_same_webhook_id_is_sent_on_every_retry(
    endpoint: Endpoint, receiver: Receiver, clock: Clock
) -> None:
    emit_numbered([1], clock())
    receiver.answer = lambda _: (500, {})
    deliver(endpoint, clock())
    receiver.answer = lambda _: (200, {})
    deliver(endpoint, clock(minutes=1))

    seen = receiver.webhook_ids
    assert len(seen) == 2
    assert seen[0] == seen[1] == f"evt_{Event.objects.get().pk}"
    attempts = list(Attempt.objects.order_by("at").values_list("response_status"))
    assert attempts == [(500,), (200,)]


@override_settings(STREAM_GIVE_UP_HOURS=72)
def test_a_delivery_is_given_up_after_the_limit_and_the_contacts_next_go(
    endpoint: Endpoint, receiver: Receiver, clock: Clock
) -> None:
    emit_numbered([1], clock())
    receiver.answer = lambda post: (400 if post["data"]["n"] == 0 else 200, {})
    deliver(endpoint, clock())
    emit_numbered([1], clock(minutes=1), start=1)  # waits behind the refused one

    for hours in range(1, 72):
        deliver(endpoint, clock(hours=hours))
    first = Delivery.objects.earliest("id")
    assert first.status == "pending"
    assert receiver.posts == []

    deliver(endpoint, clock(hours=72, minutes=1))

    first.refresh_from_db()
    assert first.status == "failed"
    assert first.last_error.startswith("Given up after 72 hours")
    assert first.last_status_code == 400
    assert 10 <= first.attempts <= 80
    deliver(endpoint, clock(hours=72, minutes=2))
    assert receiver.ids() == [1]  # the later event went


@override_settings(STREAM_GIVE_UP_HOURS=1)
def test_the_sweep_gives_up_what_an_endpoint_down_never_took(
    endpoint: Endpoint, clock: Clock
) -> None:
    emit_numbered([1, 2, 3], clock())
    Endpoint.objects.filter(pk=endpoint.pk).update(paused_until=clock(hours=5))

    swept = deliveries_sweep(now=clock(minutes=61))

    assert swept.given_up == 3
    assert set(Delivery.objects.values_list("status", flat=True)) == {"failed"}
    assert Delivery.objects.earliest("id").last_error.startswith(
        "Given up after 1 hours"
    )


def test_an_endpoint_pointing_inside_is_refused_at_send(
    endpoint: Endpoint, receiver: Receiver, clock: Clock, settings: Any
) -> None:
    settings.MESSAGING_OUTBOUND_ALLOW = []
    emit_numbered([1], clock())

    report = deliver(endpoint, clock())

    assert report.delivered == 0
    assert report.paused_for is not None
    endpoint.refresh_from_db()
    assert "refused" in endpoint.last_error
    assert "loopback" in endpoint.last_error or "localhost" in endpoint.last_error
    assert receiver.posts == []


def test_a_redirect_is_not_followed(
    endpoint: Endpoint, receiver: Receiver, clock: Clock
) -> None:
    emit_numbered([1], clock())
    receiver.answer = lambda _: (302, {"Location": "http://127.0.0.1:1/"})

    deliver(endpoint, clock())

    delivery = Delivery.objects.get()
    assert delivery.status == "pending"
    assert delivery.last_status_code == 302
    assert "redirects are not followed" in delivery.last_error


def test_one_pass_at_a_time_delivers_an_endpoint(
    endpoint: Endpoint, receiver: Receiver, clock: Clock
) -> None:
    emit_numbered([1], clock())
    Endpoint.objects.filter(pk=endpoint.pk).update(lease_until=clock(minutes=1))

    assert not endpoint_deliver(endpoint_id=endpoint.pk, now=clock()).taken
    assert receiver.posts == []
    # A lease left by a lost worker runs out.
    assert deliver(endpoint, clock(minutes=2)).delivered == 1


def test_an_inactive_endpoint_gets_no_events_and_is_not_delivered(
    endpoint: Endpoint, receiver: Receiver, clock: Clock
) -> None:
    emit_numbered([1], clock())
    Endpoint.objects.filter(pk=endpoint.pk).update(active=False)
    emit_numbered([2], clock())

    assert Delivery.objects.count() == 1
    assert not deliver(endpoint, clock()).taken


@pytest.mark.django_db
def test_the_sweep_queues_a_pass_for_endpoints_with_something_due(
    endpoint: Endpoint, clock: Clock, redis_client: Any
) -> None:
    emit_numbered([1], clock())
    Endpoint.objects.filter(pk=endpoint.pk).update(kick_queued=True)  # lost kick

    assert deliveries_sweep(now=clock()).kicked == 1
    assert redis_client.llen("celery") == 1
    Endpoint.objects.filter(pk=endpoint.pk).update(paused_until=clock(minutes=1))
    assert deliveries_sweep(now=clock()).kicked == 0
