"""A branching flow end to end on PostgreSQL and Redis with a real Celery worker:
beat's tick opens the run, the worker sends the first message, the beat-driven
advance task carries every contact past the wait and the branch, and each contact
gets the message its MONTO calls for."""

import datetime as dt
import time
from typing import Any

import pytest

from audiences.models import AudienceGroup, Contact, Membership, Variable
from flows.models import Journey
from flows.tasks import advance_journeys
from messaging.models import Message
from tests.campaigns.test_slice import beat_tick
from tests.conftest import wait_for
from tests.flows.test_engine import branching_flow

SEED = [("+525500998877", "Carlos", 1200), ("+525511223344", "Ana", 800)]


@pytest.mark.django_db(transaction=True)
def test_each_seed_contact_gets_the_message_of_its_branch_after_the_wait(
    celery_worker: Any, make_campaign: Any, make_channel: Any
) -> None:
    Variable.objects.create(name="MONTO", kind="number")
    group = AudienceGroup.objects.create(name="Seed")
    for phone, name, amount in SEED:
        contact = Contact.objects.create(
            phone=phone, name=name, data={"NOMBRE": name, "MONTO": amount}
        )
        Membership.objects.create(group=group, contact=contact)
    channel = make_channel()
    flow = branching_flow(
        channel, wait=dt.timedelta(seconds=2), yes_body="VIP", no_body="Ahorra"
    )
    campaign = make_campaign(started=True, flow=flow, group=group)

    beat_tick(campaign)
    assert wait_for(lambda: Message.objects.filter(status="sent").count() == 2)
    # Beat sends the advance task every few seconds; here the test sends it.
    advance_journeys.delay()  # before the wait is over: nothing moves

    last = [time.monotonic()]

    def all_done() -> bool:
        if time.monotonic() - last[0] > 0.5:
            advance_journeys.delay()
            last[0] = time.monotonic()
        return Message.objects.filter(status="sent").count() == 4

    assert wait_for(all_done, timeout=30)
    sent = {
        phone: list(
            Message.objects.filter(contact__phone=phone, status="sent")
            .order_by("id")
            .values_list("body", flat=True)
        )
        for phone, _, _ in SEED
    }
    assert sent == {
        "+525500998877": ["Hola Carlos", "VIP"],
        "+525511223344": ["Hola Ana", "Ahorra"],
    }
    first, second = (
        Message.objects.filter(contact__phone=SEED[0][0]).order_by("id").all()
    )
    assert first.sent_at is not None
    assert second.sent_at is not None
    assert second.sent_at - first.sent_at >= dt.timedelta(seconds=2)
    assert set(Journey.objects.values_list("status", flat=True)) == {"ended"}
