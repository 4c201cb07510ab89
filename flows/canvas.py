"""What the flow canvas is told about a flow (its problems, each at its step; where
its nodes are drawn), and what it posts back (where they were drawn).

The problems are the sentences of publishing's checks; those naming a step ("Step
3: …", "Steps 2 → 4 → 2 form a loop …") are shown on that step's node, the others
above the canvas.
"""

import json
import re
from typing import Any

from .models import Flow
from .publishing import flow_problems

STEP = re.compile(r"^Steps? (\d+(?: → \d+)*)")
# The form field the canvas posts its layout in (flows/canvas.js).
LAYOUT_FIELD = "flow-canvas-layout"
MOST_PLACES = 1000
FARTHEST = 100_000


def problems_by_step(problems: list[str]) -> dict[str, Any]:
    """``{"steps": {"3": [sentence, …]}, "flow": [sentence, …]}``: each sentence
    under every step it names first, or under the flow when it names none."""
    steps: dict[str, list[str]] = {}
    whole: list[str] = []
    for problem in problems:
        named = STEP.match(problem)
        if named is None:
            whole.append(problem)
            continue
        for position in dict.fromkeys(named.group(1).split(" → ")):
            steps.setdefault(position, []).append(problem)
    return {"steps": steps, "flow": whole}


def canvas_data(flow: Flow | None) -> dict[str, Any]:
    """The saved flow's problems and layout for its canvas; no problems for a flow
    not saved yet or without steps (the form then says what is missing)."""
    if flow is None or flow.pk is None:
        return {**problems_by_step([]), "layout": {}}
    problems = flow_problems(flow) if flow.steps.exists() else []
    return {**problems_by_step(problems), "layout": flow.canvas_layout or {}}


def canvas_layout_read(text: str) -> dict[str, list[int]] | None:
    """The layout the canvas posted, ``{"3": [x, y]}`` with whole numbers; None when
    nothing or something else was posted (a page without the canvas, a forged
    post), so the layout saved before stays."""
    try:
        posted = json.loads(text) if text else None
    except ValueError:
        return None
    if not isinstance(posted, dict) or len(posted) > MOST_PLACES:
        return None
    layout: dict[str, list[int]] = {}
    for position, place in posted.items():
        if not (
            isinstance(position, str)
            and position.isdigit()
            and isinstance(place, list)
            and len(place) == 2
            and all(isinstance(n, int | float) for n in place)
        ):
            return None
        layout[position] = [max(-FARTHEST, min(FARTHEST, round(n))) for n in place]
    return layout


def flow_canvas_place(*, flow: Flow, text: str) -> None:
    """Keep the layout the canvas posted for ``flow``, if it posted one."""
    layout = canvas_layout_read(text)
    if layout is not None and flow.pk is not None:
        Flow.objects.filter(pk=flow.pk).update(canvas_layout=layout)
