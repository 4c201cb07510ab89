"""The journey engine on PostgreSQL, with time driven by the test."""

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from audiences.models import AudienceGroup, Contact
from campaigns.runs import campaign_tick
from flows.engine import journeys_advance
from flows.models import Flow, FlowStep, Journey
from flows.publishing import flow_publish
from messaging.models import Message
from messaging.sending import messages_send_range
from tests.flows.conftest import SEED


def branching_flow(
    channel: Any,
    name: str = "Welcome",
    *,
    wait: dt.timedelta = dt.timedelta(minutes=1),
    yes_body: str = "VIP {{MONTO}}",
    no_body: str = "Ahorra {{NOMBRE}}",
) -> Flow:
    """send, wait (1 min), branch MONTO > 1000: yes send A, no send B; end."""
    flow = Flow.objects.create(name=name)
    step = FlowStep.objects.create
    step(flow=flow, position=1, kind="send", channel=channel, body="Hola {{NOMBRE}}")
    step(flow=flow, position=2, kind="wait", wait=wait)
    step(
        flow=flow,
        position=3,
        kind="branch",
        condition_field="MONTO",
        condition_op="gt",
        condition_value="1000",
        yes_step=4,
        no_step=5,
    )
    step(
        flow=flow,
        position=4,
        kind="send",
        channel=channel,
        body=yes_body,
        next_step=6,
    )
    step(flow=flow, position=5, kind="send", channel=channel, body=no_body)
    step(flow=flow, position=6, kind="end")
    flow_publish(flow=flow)
    return flow


def send_all(now: dt.datetime) -> None:
    for batch_id in set(Message.objects.values_list("batch_id", flat=True)):
        messages_send_range(batch_id=batch_id, first_id=0, last_id=10**9, now=now)


def bodies(step_body_prefix: str = "") -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for phone, body in (
        Message.objects.filter(status="sent")
        .order_by("id")
        .values_list("contact__phone", "body")
    ):
        out.setdefault(phone, []).append(body)
    return out


@pytest.mark.django_db
def test_a_branching_flow_sends_each_contact_the_right_message_at_the_right_time(
    make_campaign: Any, make_channel: Any, seed_group: AudienceGroup
) -> None:
    flow = branching_flow(make_channel())
    campaign = make_campaign(started=True, flow=flow, group=seed_group)
    start = timezone.now()

    run = campaign_tick(campaign_id=campaign.pk, now=start)
    assert run is not None
    send_all(start)
    # The first message at once; everyone now waits a minute.
    assert bodies() == {phone: [f"Hola {name}"] for phone, name, _ in SEED}
    assert set(Journey.objects.values_list("status", "step")) == {("active", 3)}

    # 30 s later nothing is due yet.
    assert journeys_advance(now=start + dt.timedelta(seconds=30)) == 0
    assert Message.objects.count() == 3

    # After the minute, the branch decides in SQL and the right message goes out.
    later = start + dt.timedelta(minutes=1, seconds=1)
    assert journeys_advance(now=later) == 3
    send_all(later)
    assert bodies() == {
        "+525500998877": ["Hola Carlos", "VIP 1200"],
        "+525511223344": ["Hola Ana", "Ahorra Ana"],
        "+525533445566": ["Hola Luis", "VIP 1500"],
    }
    assert set(Journey.objects.values_list("status", "step")) == {("ended", 6)}
    # Advancing again changes nothing: every journey has ended.
    assert journeys_advance(now=later + dt.timedelta(hours=1)) == 0
    assert Message.objects.count() == 6


@pytest.mark.django_db
def test_editing_a_published_flow_does_not_change_what_a_running_campaign_sends(
    make_campaign: Any, make_channel: Any, seed_group: AudienceGroup
) -> None:
    flow = branching_flow(make_channel())
    campaign = make_campaign(started=True, flow=flow, group=seed_group)
    start = timezone.now()
    campaign_tick(campaign_id=campaign.pk, now=start)

    # The operator edits the flow and publishes a new version mid-journey.
    FlowStep.objects.filter(flow=flow, position=4).update(body="CHANGED")
    FlowStep.objects.filter(flow=flow, position=2).update(wait=dt.timedelta(days=9))
    flow_publish(flow=flow)

    later = start + dt.timedelta(minutes=1, seconds=1)
    journeys_advance(now=later)
    send_all(later)
    sent = bodies()
    assert sent["+525500998877"] == ["Hola Carlos", "VIP 1200"]
    assert "CHANGED" not in str(sent)


@pytest.mark.django_db
def test_finishing_a_campaign_cancels_its_waiting_journeys_only(
    make_campaign: Any, make_channel: Any, seed_group: AudienceGroup
) -> None:
    from campaigns.lifecycle import campaign_end

    flow = branching_flow(make_channel())
    first = make_campaign(started=True, flow=flow, group=seed_group)
    second = make_campaign(started=True, flow=flow, group=seed_group, name="Other")
    start = timezone.now()
    campaign_tick(campaign_id=first.pk, now=start)
    campaign_tick(campaign_id=second.pk, now=start)

    campaign_end(campaign=first)

    assert set(
        Journey.objects.filter(cohort__run__campaign=first).values_list(
            "status", flat=True
        )
    ) == {"cancelled"}
    assert journeys_advance(now=start + dt.timedelta(minutes=2)) == 3
    assert set(
        Journey.objects.filter(cohort__run__campaign=second).values_list(
            "status", flat=True
        )
    ) == {"ended"}


@pytest.mark.django_db
def test_journeys_of_a_suspended_campaign_wait_until_it_resumes(
    make_campaign: Any, make_channel: Any, seed_group: AudienceGroup
) -> None:
    from campaigns.lifecycle import campaign_suspend

    flow = branching_flow(make_channel())
    campaign = make_campaign(started=True, flow=flow, group=seed_group)
    start = timezone.now()
    campaign_tick(campaign_id=campaign.pk, now=start)
    campaign_suspend(campaign=campaign)

    assert journeys_advance(now=start + dt.timedelta(minutes=5)) == 0
    assert Journey.objects.filter(status="active").count() == 3


@pytest.mark.django_db
def test_opted_out_contacts_are_skipped_but_still_move_on(
    make_campaign: Any, make_channel: Any, seed_group: AudienceGroup
) -> None:
    Contact.objects.filter(phone="+525511223344").update(opted_out_at=timezone.now())
    flow = branching_flow(make_channel())
    campaign = make_campaign(started=True, flow=flow, group=seed_group)
    start = timezone.now()
    campaign_tick(campaign_id=campaign.pk, now=start)
    journeys_advance(now=start + dt.timedelta(minutes=2))

    statuses = Message.objects.filter(contact__phone="+525511223344").values_list(
        "status", flat=True
    )
    assert sorted(statuses) == ["skipped", "skipped"]


@pytest.mark.django_db
def test_a_loop_with_a_wait_polls_until_the_condition_holds(
    make_campaign: Any, make_channel: Any, seed_group: AudienceGroup
) -> None:
    channel = make_channel()
    flow = Flow.objects.create(name="Poll")
    step = FlowStep.objects.create
    step(flow=flow, position=1, kind="wait", wait=dt.timedelta(minutes=10))
    step(
        flow=flow,
        position=2,
        kind="branch",
        condition_field="MONTO",
        condition_op="gt",
        condition_value="2000",
        yes_step=3,
        no_step=1,
    )
    step(flow=flow, position=3, kind="send", channel=channel, body="Gracias")
    step(flow=flow, position=4, kind="end")
    flow_publish(flow=flow)
    campaign = make_campaign(started=True, flow=flow, group=seed_group)
    start = timezone.now()
    campaign_tick(campaign_id=campaign.pk, now=start)

    journeys_advance(now=start + dt.timedelta(minutes=11))
    assert Message.objects.count() == 0
    Contact.objects.filter(phone="+525500998877").update(data={"MONTO": 5000})
    journeys_advance(now=start + dt.timedelta(minutes=22))
    assert list(Message.objects.values_list("contact__phone", flat=True)) == [
        "+525500998877"
    ]
    assert Journey.objects.filter(status="active").count() == 2
