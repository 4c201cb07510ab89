"""The edges of wait-for-a-reply and group steps: replies after the time is up,
questions held by active hours, suspended campaigns, empty replies, group steps
on the campaign's own group and groups gone after publishing."""

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from audiences.models import AudienceGroup, Contact, Variable
from campaigns.lifecycle import campaign_resume, campaign_start_if_due, campaign_suspend
from campaigns.runs import campaign_tick
from flows.engine import journeys_advance
from flows.models import Flow, FlowStep, Journey
from flows.publishing import flow_publish
from messaging.models import Message
from messaging.receipts import reply_record
from tests.conftest import PHONES
from tests.flows.test_replies import (
    LATE,
    MORNING,
    NIGHT,
    chatbot_flow,
    step_ids,
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
def test_a_reply_to_a_suspended_campaign_is_answered_when_it_resumes(
    provider: Any, make_campaign: Any, make_channel: Any
) -> None:
    channel = make_channel()
    flow = chatbot_flow(channel)
    now = timezone.now()
    campaign = make_campaign(started=True, flow=flow)
    campaign_tick(campaign_id=campaign.pk, now=now)
    campaign = campaign_suspend(campaign=campaign)

    reply = reply_record(channel=channel, sender=CARLOS, body="si", now=now)
    assert reply is not None
    assert reply.taken_by_flow
    (yes,) = step_ids(flow, 3)
    assert not Message.objects.filter(step=yes).exists()
    journeys_advance(now=now + dt.timedelta(minutes=1))
    assert not Message.objects.filter(step=yes).exists()

    later = now + dt.timedelta(hours=1)
    campaign = campaign_resume(campaign=campaign, start_at=later)
    campaign_start_if_due(campaign=campaign, now=later)
    journeys_advance(now=later)
    assert list(Message.objects.filter(step=yes).values_list("contact__phone")) == [
        (CARLOS,)
    ]
    carlos = Journey.objects.get(contact__phone=CARLOS)
    assert (carlos.status, carlos.step) == ("ended", 6)
    assert Journey.objects.filter(awaiting_reply=True).count() == 2


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


@pytest.mark.django_db
def test_a_group_gone_after_publishing_stops_its_journeys_and_no_others(
    provider: Any, make_campaign: Any, make_channel: Any, make_group: Any
) -> None:
    channel = make_channel()
    gone = AudienceGroup.objects.create(name="Gone")
    dynamic = AudienceGroup.objects.create(name="Turns dynamic")
    flows = []
    for target in (gone, dynamic, None):
        flow = Flow.objects.create(name=f"To {target}")
        step = FlowStep.objects.create
        step(flow=flow, position=1, kind="send", channel=channel, body="Hola")
        step(flow=flow, position=2, kind="wait", wait=dt.timedelta(hours=1))
        if target is not None:
            step(flow=flow, position=3, kind="group", group=target, group_action="add")
        step(flow=flow, position=4, kind="send", channel=channel, body="Adiós")
        step(flow=flow, position=5, kind="end")
        flow_publish(flow=flow)
        flows.append(flow)
        campaign = make_campaign(
            started=True, flow=flow, start_at=NIGHT, name=f"Campaign {target}"
        )
        campaign_tick(campaign_id=campaign.pk, now=NIGHT)
    # The working copies change; the published versions still name the groups.
    FlowStep.objects.filter(kind="group").delete()
    gone.delete()
    AudienceGroup.objects.filter(pk=dynamic.pk).update(kind="dynamic")

    journeys_advance(now=NIGHT + dt.timedelta(hours=2))

    for flow, reason in zip(
        flows, ["no longer exists", "is dynamic", None], strict=True
    ):
        journeys = Journey.objects.filter(flow=flow)
        (bye,) = step_ids(flow, 4)
        if reason is None:
            assert set(journeys.values_list("status", flat=True)) == {"ended"}
            assert Message.objects.filter(step=bye).count() == 3
        else:
            assert set(journeys.values_list("status", "step")) == {("failed", 3)}
            assert all(reason in j.end_reason for j in journeys)
            assert not Message.objects.filter(step=bye).exists()
