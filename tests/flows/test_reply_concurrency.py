"""Replies that race: two answers of one contact at once, each waiting its turn on
the journey rather than passing it by (PostgreSQL row locks)."""

import datetime as dt
import threading
from typing import Any

import pytest
from django.db import connection, transaction
from django.utils import timezone

from campaigns.runs import campaign_tick
from flows import engine, replies
from flows.engine import journeys_advance
from flows.models import Journey
from messaging.models import InboundMessage
from messaging.receipts import reply_record
from tests.flows.test_reply_edges import CARLOS, ask_again_flow


@pytest.mark.postgresql  # row locks
@pytest.mark.django_db(transaction=True)
def test_a_second_reply_during_the_first_waits_for_it_and_answers_the_next_wait(
    provider: Any,
    make_campaign: Any,
    make_channel: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("messaging.queueing.send_range", lambda **_: 0)
    channel = make_channel()
    campaign = make_campaign(started=True, flow=ask_again_flow(channel))
    now = timezone.now()
    campaign_tick(campaign_id=campaign.pk, now=now)
    moving, release = threading.Event(), threading.Event()
    real_advance = replies.advance_selection

    def slow_advance(*args: Any, **kwargs: Any) -> Any:
        out = real_advance(*args, **kwargs)
        if not moving.is_set():
            moving.set()
            release.wait(10)
        return out

    monkeypatch.setattr(replies, "advance_selection", slow_advance)

    def in_thread(body: str) -> threading.Thread:
        def target() -> None:
            try:
                reply_record(channel=channel, sender=CARLOS, body=body, now=now)
            finally:
                connection.close()

        thread = threading.Thread(target=target)
        thread.start()
        return thread

    # "mañana" is a wrong answer: Carlos joins Retry and waits again at step 2.
    first = in_thread("mañana")
    assert moving.wait(10)
    # His "PAGO" comes while the first reply still moves his journey.
    second = in_thread("PAGO")
    second.join(0.5)
    release.set()
    first.join(10)
    second.join(10)

    carlos = Journey.objects.get(contact__phone=CARLOS)
    assert (carlos.status, carlos.step) == ("ended", 4)
    assert set(InboundMessage.objects.values_list("body", "taken_by_flow")) == {
        ("mañana", True),
        ("PAGO", True),
    }


@pytest.mark.postgresql  # row locks
@pytest.mark.django_db(transaction=True)
def test_a_reply_while_the_advance_times_the_journey_out_waits_and_takes_nothing(
    provider: Any,
    make_campaign: Any,
    make_channel: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("messaging.queueing.send_range", lambda **_: 0)
    channel = make_channel()
    campaign = make_campaign(started=True, flow=ask_again_flow(channel))
    now = timezone.now()
    campaign_tick(campaign_id=campaign.pk, now=now)
    carrying, release = threading.Event(), threading.Event()
    real_segment = engine.segment

    def slow_segment(*args: Any, **kwargs: Any) -> Any:
        if not carrying.is_set():
            carrying.set()
            release.wait(10)
        return real_segment(*args, **kwargs)

    monkeypatch.setattr(engine, "segment", slow_segment)
    over = now + dt.timedelta(hours=1, seconds=1)
    done: list[Any] = []

    def run(work: Any) -> threading.Thread:
        def target() -> None:
            try:
                done.append(work())
            finally:
                connection.close()

        thread = threading.Thread(target=target)
        thread.start()
        return thread

    advance = run(lambda: journeys_advance(now=over))
    assert carrying.wait(10)
    # Carlos's answer, a second before the hour, reaches the journey while the
    # advance holds it: it waits, and finds the time was up.
    late = now + dt.timedelta(minutes=59, seconds=59)
    reply = run(
        lambda: reply_record(channel=channel, sender=CARLOS, body="PAGO", now=late)
    )
    reply.join(0.5)
    assert reply.is_alive()
    release.set()
    advance.join(10)
    reply.join(10)

    assert set(Journey.objects.values_list("status", "step")) == {("ended", 5)}
    assert InboundMessage.objects.get().taken_by_flow is False


@pytest.mark.postgresql  # row locks
@pytest.mark.django_db(transaction=True)
def test_a_reply_never_deadlocks_with_a_transaction_locking_several_journeys(
    provider: Any,
    make_campaign: Any,
    make_channel: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tests.flows.test_replies import chatbot_flow

    monkeypatch.setattr("messaging.queueing.send_range", lambda **_: 0)
    channel = make_channel()
    now = timezone.now()
    for name in ("Morning", "Evening"):
        flow = chatbot_flow(channel, name=name)
        campaign = make_campaign(started=True, flow=flow, name=name)
        campaign_tick(campaign_id=campaign.pk, now=now)
    first, second = Journey.objects.filter(contact__phone=CARLOS).order_by("pk")
    locked, go = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def run(work: Any) -> threading.Thread:
        def target() -> None:
            try:
                work()
            except BaseException as exc:  # noqa: BLE001 - reported by the test
                errors.append(exc)
            finally:
                connection.close()

        thread = threading.Thread(target=target)
        thread.start()
        return thread

    def holder() -> None:
        # Like Finish: locks the contact's journeys, the later one first.
        with transaction.atomic():
            Journey.objects.select_for_update().get(pk=second.pk)
            locked.set()
            go.wait(10)
            Journey.objects.filter(pk=first.pk).update(end_reason="touched")

    holding = run(holder)
    assert locked.wait(10)
    replying = run(
        lambda: reply_record(channel=channel, sender=CARLOS, body="si", now=now)
    )
    replying.join(1)
    go.set()
    holding.join(10)
    replying.join(10)

    assert errors == []
    assert InboundMessage.objects.get().taken_by_flow
    assert set(
        Journey.objects.filter(contact__phone=CARLOS).values_list("status", "step")
    ) == {("ended", 6)}
