"""What the flow canvas is told about a flow: its problems, each at its step."""

import json
import re
from typing import Any

import pytest
from django.test import Client

from flows.canvas import canvas_problems, problems_by_step


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
    assert canvas_problems(make_flow(publish=False)) == {"steps": {}, "flow": []}
    assert canvas_problems(None) == {"steps": {}, "flow": []}


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
        r'<script id="flow-canvas-problems" type="application/json">(.*?)</script>',
        page,
    )
    assert data is not None
    assert list(json.loads(data.group(1))["steps"]) == ["1"]
