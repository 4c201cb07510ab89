"""What the flow canvas is told about a flow: its problems, each at its step."""

import json
import re
from typing import Any

import pytest
from django.test import Client

from flows.canvas import canvas_data, canvas_layout_read, problems_by_step


def test_a_problem_is_shown_at_every_step_it_names_and_the_others_on_the_flow() -> None:
    shown = problems_by_step(
        [
            "Step 3: choose the channel to send on.",
            "Step 12 can never be reached: no step leads to it.",
            "Steps 2 → 4 → 2 form a loop without a Wait step; …",
            "The flow has no End step.",
        ]
    )

    assert shown["steps"] == {
        "3": ["Step 3: choose the channel to send on."],
        "12": ["Step 12 can never be reached: no step leads to it."],
        "2": ["Steps 2 → 4 → 2 form a loop without a Wait step; …"],
        "4": ["Steps 2 → 4 → 2 form a loop without a Wait step; …"],
    }
    assert shown["flow"] == ["The flow has no End step."]


@pytest.mark.django_db
def test_a_sound_flow_and_a_flow_not_saved_yet_have_no_problems(
    make_flow: Any,
) -> None:
    nothing: dict[str, Any] = {"steps": {}, "flow": [], "layout": {}}
    assert canvas_data(make_flow(publish=False)) == nothing
    assert canvas_data(None) == nothing


@pytest.mark.django_db
def test_the_flow_page_gives_the_canvas_its_library_and_the_problems_by_step(
    admin_client: Client, make_flow: Any
) -> None:
    flow = make_flow(publish=False)
    flow.steps.filter(position=1).update(body="")

    page = admin_client.get(f"/admin/flows/flow/{flow.pk}/change/").content.decode()

    assert "flows/vendor/drawflow-0.0.60/drawflow.min.js" in page
    assert "flows/canvas.js" in page
    assert 'class="flow-canvas-root"' in page
    data = re.search(
        r'<script id="flow-canvas-data" type="application/json">(.*?)</script>',
        page,
    )
    assert data is not None
    assert list(json.loads(data.group(1))["steps"]) == ["1"]


def test_a_layout_posted_by_the_canvas_is_read_and_anything_else_is_not() -> None:
    assert canvas_layout_read('{"1": [30, 30.6], "12": [-5, 999999]}') == {
        "1": [30, 31],
        "12": [-5, 100_000],
    }
    for posted in ["", "[1, 2]", '{"a": [1, 2]}', '{"1": [1]}', '{"1": ["x", 2]}', "{"]:
        assert canvas_layout_read(posted) is None


@pytest.mark.django_db
def test_saving_the_steps_keeps_the_layout_the_canvas_posted(
    admin_client: Client, make_flow: Any
) -> None:
    flow = make_flow(publish=False)
    steps = list(flow.steps.order_by("position"))
    data: dict[str, Any] = {
        "name": flow.name,
        "description": "",
        "trigger": "manual",
        "steps-TOTAL_FORMS": 2,
        "steps-INITIAL_FORMS": 2,
        "versions-TOTAL_FORMS": 0,
        "versions-INITIAL_FORMS": 0,
        "event_conditions-TOTAL_FORMS": 0,
        "event_conditions-INITIAL_FORMS": 0,
        "flow-canvas-layout": '{"1": [30, 30], "2": [330, 180]}',
    }
    for index, step in enumerate(steps):
        data[f"steps-{index}-id"] = step.pk
        data[f"steps-{index}-flow"] = flow.pk
        data[f"steps-{index}-position"] = step.position
        data[f"steps-{index}-kind"] = step.kind
        data[f"steps-{index}-channel"] = step.channel_id or ""
        data[f"steps-{index}-body"] = step.body

    response = admin_client.post(f"/admin/flows/flow/{flow.pk}/change/", data)

    assert response.status_code == 302, response.content.decode()[:2000]
    flow.refresh_from_db()
    assert flow.canvas_layout == {"1": [30, 30], "2": [330, 180]}
