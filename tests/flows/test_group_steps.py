"""Group steps: contacts join or leave a static group on the way, set-wise; a group
gone or turned dynamic after publishing stops only the journeys that reach it."""

import datetime as dt
from typing import Any

import pytest

from audiences.models import AudienceGroup, Contact
from campaigns.runs import campaign_tick
from flows.engine import journeys_advance
from flows.models import Flow, FlowStep, Journey
from flows.publishing import flow_publish
from messaging.models import Message
from tests.conftest import PHONES
from tests.flows.test_replies import NIGHT, step_ids

CARLOS, ANA, LUIS = PHONES


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


@pytest.mark.django_db
def test_a_run_whose_group_step_lost_its_group_fails_loudly_and_opens_nothing(
    provider: Any, make_campaign: Any, make_channel: Any
) -> None:
    from flows.channels import FlowNotRunnable

    gone = AudienceGroup.objects.create(name="Gone")
    flow = Flow.objects.create(name="Tag")
    step = FlowStep.objects.create
    step(flow=flow, position=1, kind="send", channel=make_channel(), body="Hola")
    step(flow=flow, position=2, kind="group", group=gone, group_action="add")
    step(flow=flow, position=3, kind="end")
    flow_publish(flow=flow)
    campaign = make_campaign(started=True, flow=flow, start_at=NIGHT)
    FlowStep.objects.filter(kind="group").delete()
    gone.delete()

    with pytest.raises(FlowNotRunnable, match="no longer exists"):
        campaign_tick(campaign_id=campaign.pk, now=NIGHT)
    assert not Journey.objects.exists()
    assert not Message.objects.exists()
    from campaigns.models import CampaignRun

    assert not CampaignRun.objects.exists()
