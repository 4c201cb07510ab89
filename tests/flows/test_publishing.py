from typing import Any

import pytest

from flows.models import Flow, FlowStep
from flows.publishing import FlowRefused, flow_publish


@pytest.mark.django_db
def test_publishing_freezes_the_steps_into_a_numbered_version(make_flow: Any) -> None:
    flow = make_flow(publish=False)

    first = flow_publish(flow=flow)
    FlowStep.objects.filter(flow=flow).update(body="changed")
    second = flow_publish(flow=flow)

    assert (first.number, second.number) == (1, 2)
    assert first.steps[0]["body"] == "Hola {{NOMBRE}}"
    assert second.steps[0]["body"] == "changed"
    flow.refresh_from_db()
    assert flow.status == Flow.Status.PUBLISHED
    assert flow.current_version == second


@pytest.mark.django_db
def test_a_flow_without_a_send_step_is_refused() -> None:
    flow = Flow.objects.create(name="Empty")
    with pytest.raises(FlowRefused, match="at least one 'Send a message' step"):
        flow_publish(flow=flow)
    assert Flow.objects.get(pk=flow.pk).status == Flow.Status.DRAFT


@pytest.mark.django_db
def test_every_problem_is_named_with_its_step(make_channel: Any) -> None:
    flow = Flow.objects.create(name="Broken")
    FlowStep.objects.create(flow=flow, position=1, kind="send", body="")
    FlowStep.objects.create(flow=flow, position=2, kind="wait")

    with pytest.raises(FlowRefused) as info:
        flow_publish(flow=flow)

    text = str(info.value)
    assert "Step 1: choose the channel" in text
    assert "Step 1: the message text is empty" in text
    assert "Step 2: 'Wait' steps cannot be published yet" in text


@pytest.mark.django_db
def test_send_steps_stop_at_the_first_end_step(
    make_flow: Any, make_channel: Any
) -> None:
    flow = make_flow(publish=False)
    FlowStep.objects.create(flow=flow, position=2, kind="end")
    FlowStep.objects.create(
        flow=flow, position=3, kind="send", channel=make_channel(), body="never"
    )

    version = flow_publish(flow=flow)

    assert [step["body"] for step in version.send_steps()] == ["Hola {{NOMBRE}}"]
