"""The edges of wait-for-a-reply and group steps: replies after the time is up,
questions held by active hours, suspended campaigns, empty replies, group steps
on the campaign's own group and groups gone after publishing."""

import datetime as dt
from typing import Any

import pytest

from audiences.models import Contact, Variable
from campaigns.runs import campaign_tick
from flows.engine import journeys_advance
from flows.models import Flow, FlowStep, Journey
from flows.publishing import flow_publish
from messaging.receipts import reply_record
from tests.conftest import PHONES
from tests.flows.test_replies import (
    LATE,
    MORNING,
    NIGHT,
    chatbot_flow,
)

CARLOS, ANA, LUIS = PHONES


@pytest.mark.django_db
def test_a_reply_after_the_time_is_up_goes_the_no_reply_way_even_before_the_advance(
    provider: Any, make_campaign: Any, make_channel: Any
) -> None:
    channel = make_channel()
    campaign = make_campaign(started=True, flow=chatbot_flow(channel), start_at=NIGHT)
    campaign_tick(campaign_id=campaign.pk, now=NIGHT)

    # The day is over; the advance has not come by yet when Carlos answers.
    over = NIGHT + dt.timedelta(days=1, minutes=1)
    late = reply_record(channel=channel, sender=CARLOS, body="si", now=over)
    assert late is not None
    assert late.taken_by_flow is False
    assert "RESPUESTA" not in Contact.objects.get(phone=CARLOS).data
    journeys_advance(now=over + dt.timedelta(minutes=1))
    assert set(Journey.objects.values_list("status", "step")) == {("ended", 5)}


@pytest.mark.django_db
def test_a_reply_step_reached_through_a_branch_waits_from_when_the_question_goes_out(
    provider: Any, make_campaign: Any, make_channel: Any
) -> None:
    # Open 08:00–23:00 at GMT-5: a question written at 23:30 goes out at 08:00.
    night = make_channel(
        active_from=dt.time(8), active_until=dt.time(23), timezone="Etc/GMT+5"
    )
    flow = Flow.objects.create(name="Ask, then check")
    step = FlowStep.objects.create
    step(flow=flow, position=1, kind="send", channel=night, body="¿Paga hoy?")
    step(
        flow=flow,
        position=2,
        kind="branch",
        condition_field="NAME",
        condition_op="is_set",
        yes_step=3,
        no_step=3,
    )
    step(
        flow=flow,
        position=3,
        kind="reply",
        channel=night,
        wait=dt.timedelta(hours=1),
        yes_step=4,
        timeout_step=5,
    )
    step(flow=flow, position=4, kind="end")
    step(flow=flow, position=5, kind="end")
    flow_publish(flow=flow)
    campaign = make_campaign(started=True, flow=flow, start_at=LATE)
    campaign_tick(campaign_id=campaign.pk, now=LATE)

    assert set(Journey.objects.values_list("step", "awaiting_reply", "due_at")) == {
        (3, True, MORNING + dt.timedelta(hours=1))
    }


@pytest.mark.django_db
def test_an_empty_reply_keeps_nothing_and_makes_no_variable(
    provider: Any, make_campaign: Any, make_channel: Any
) -> None:
    channel = make_channel()
    Variable.objects.create(name="MONTO", kind="number")
    Contact.objects.create(phone=CARLOS, name="Carlos", data={"MONTO": 1200})
    flows = [
        chatbot_flow(channel, save_as="MONTO", name="Amount"),
        chatbot_flow(channel, save_as="FOTO", name="Photo"),
    ]
    for index, flow in enumerate(flows):
        campaign = make_campaign(
            started=True, flow=flow, start_at=NIGHT, name=f"Ask {index}"
        )
        campaign_tick(campaign_id=campaign.pk, now=NIGHT)

    # A photo without text: the reply moves both journeys on (not a yes), and
    # keeps nothing.
    reply = reply_record(channel=channel, sender=CARLOS, body="", now=NIGHT)
    assert reply is not None
    assert reply.taken_by_flow
    assert Contact.objects.get(phone=CARLOS).data == {"MONTO": 1200}
    assert not Variable.objects.filter(name="FOTO").exists()
    assert Journey.objects.filter(contact__phone=CARLOS, step=6).count() == 2


@pytest.mark.django_db
def test_a_group_step_leaving_the_campaigns_group_keeps_the_runs_counts(
    provider: Any, make_campaign: Any, make_channel: Any, make_group: Any
) -> None:
    group = make_group(PHONES, name="Debtors")
    Contact.objects.filter(phone=LUIS).update(opted_out_at=NIGHT)
    flow = Flow.objects.create(name="Once")
    step = FlowStep.objects.create
    step(flow=flow, position=1, kind="send", channel=make_channel(), body="Hola")
    step(flow=flow, position=2, kind="group", group=group, group_action="remove")
    step(flow=flow, position=3, kind="end")
    flow_publish(flow=flow)
    campaign = make_campaign(started=True, flow=flow, group=group, start_at=NIGHT)

    run = campaign_tick(campaign_id=campaign.pk, now=NIGHT)
    assert run is not None
    assert (run.recipients, run.skipped) == (3, 1)
    assert not group.members().exists()
