from typing import Any

import pytest

from flows.graph import graph_problems
from flows.models import Flow, FlowStep
from flows.publishing import FlowRefused, flow_archive, flow_publish, flow_restore


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
def test_publishing_is_refused_when_the_steps_are_those_of_the_current_version(
    make_flow: Any,
) -> None:
    flow = make_flow()

    with pytest.raises(FlowRefused, match="no unpublished changes; version 1 already"):
        flow_publish(flow=flow)

    assert flow.versions.count() == 1
    FlowStep.objects.filter(flow=flow, kind="send").update(body="changed")
    assert flow_publish(flow=flow).number == 2


@pytest.mark.django_db
def test_a_flow_restored_as_a_draft_can_be_published_again_unchanged(
    make_flow: Any,
) -> None:
    flow = make_flow()
    flow_archive(flow=flow)
    flow_restore(flow=flow)

    assert flow_publish(flow=flow).number == 2
    assert Flow.objects.get(pk=flow.pk).status == Flow.Status.PUBLISHED


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
    FlowStep.objects.create(
        flow=flow, position=3, kind="branch", condition_field="NOPE", yes_step=9
    )

    with pytest.raises(FlowRefused) as info:
        flow_publish(flow=flow)

    text = str(info.value)
    assert "Step 1: choose the channel" in text
    assert "Step 1: the message text is empty" in text
    assert "Step 2: give the wait a duration" in text
    assert "Step 3: a branch needs both a yes and a no step" in text
    assert "Step 3: the condition is not usable: 'NOPE' is neither" in text
    assert "Step 3: its 'yes' path goes to step 9, which does not exist" in text
    assert "The flow has no End step" in text


def _steps(*specs: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"next": None, "yes": None, "no": None, **spec} for spec in specs]


def test_a_sound_graph_with_a_waiting_loop_has_no_problems() -> None:
    # 1 send -> 2 wait -> 3 branch (yes: 4 end, no: back to 2)
    steps = _steps(
        {"position": 1, "kind": "send"},
        {"position": 2, "kind": "wait"},
        {"position": 3, "kind": "branch", "yes": 4, "no": 2},
        {"position": 4, "kind": "end"},
    )
    assert graph_problems(steps) == []


def test_a_loop_without_a_wait_is_refused() -> None:
    steps = _steps(
        {"position": 1, "kind": "send"},
        {"position": 2, "kind": "branch", "yes": 3, "no": 1},
        {"position": 3, "kind": "end"},
    )
    problems = graph_problems(steps)
    assert any("form a loop without a Wait step" in p for p in problems), problems


def test_unreachable_steps_and_dead_ends_are_named() -> None:
    steps = _steps(
        {"position": 1, "kind": "send", "next": 3},
        {"position": 2, "kind": "send"},
        {"position": 3, "kind": "end"},
        {"position": 4, "kind": "send"},
    )
    problems = graph_problems(steps)
    assert "Step 2 can never be reached: no step leads to it." in problems
    assert any(p.startswith("Step 4 leads nowhere") for p in problems)


def test_a_loop_with_no_way_out_never_reaches_an_end() -> None:
    steps = _steps(
        {"position": 1, "kind": "send"},
        {"position": 2, "kind": "wait", "next": 1},
        {"position": 3, "kind": "end"},
    )
    problems = graph_problems(steps)
    assert "Step 1: no path from it reaches an End step (it loops forever)." in problems


def test_a_step_leading_nowhere_is_told_to_end_not_said_to_loop() -> None:
    # Issue 19: a one-step flow was refused as one that "loops forever".
    problems = graph_problems(_steps({"position": 1, "kind": "send"}))
    assert problems == [
        "Step 1 leads nowhere: it must go to a step (add an End step to finish the "
        "flow).",
        "The flow has no End step.",
    ]
    steps = _steps(
        {"position": 1, "kind": "send"},
        {"position": 2, "kind": "wait", "next": 7},
        {"position": 3, "kind": "end"},
    )
    assert not any("loops forever" in p for p in graph_problems(steps))


@pytest.mark.django_db
def test_a_one_step_flow_is_refused_for_what_it_lacks(make_channel: Any) -> None:
    channel = make_channel()
    only_send = Flow.objects.create(name="Only a send")
    FlowStep.objects.create(
        flow=only_send, position=1, kind="send", channel=channel, body="Hola"
    )
    only_end = Flow.objects.create(name="Only an end")
    FlowStep.objects.create(flow=only_end, position=1, kind="end")

    with pytest.raises(FlowRefused) as send_refused:
        flow_publish(flow=only_send)
    with pytest.raises(FlowRefused) as end_refused:
        flow_publish(flow=only_end)

    assert "loops forever" not in str(send_refused.value)
    assert "add an End step to finish the flow" in str(send_refused.value)
    assert str(end_refused.value) == (
        "The flow needs at least one 'Send a message' step."
    )
    FlowStep.objects.create(flow=only_send, position=2, kind="end")
    assert flow_publish(flow=only_send).number == 1


@pytest.mark.django_db
def test_event_and_audience_flows_need_their_trigger_settings(make_flow: Any) -> None:
    flow = make_flow(publish=False, trigger="event")
    with pytest.raises(FlowRefused, match="needs the event name"):
        flow_publish(flow=flow)
    flow = make_flow(publish=False, trigger="audience")
    with pytest.raises(FlowRefused, match="needs its group and how often"):
        flow_publish(flow=flow)
