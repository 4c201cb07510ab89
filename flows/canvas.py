"""What the flow canvas is told about a flow: its problems, each at its step.

The problems are the sentences of publishing's checks; those naming a step ("Step
3: …", "Steps 2 → 4 → 2 form a loop …") are shown on that step's node, the others
above the canvas.
"""

import re
from typing import Any

from .models import Flow
from .publishing import flow_problems

STEP = re.compile(r"^Steps? (\d+(?: → \d+)*)")


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


def canvas_problems(flow: Flow | None) -> dict[str, Any]:
    """The saved flow's problems for its canvas; none for a flow not saved yet or
    without steps (the form then says what is missing)."""
    if flow is None or flow.pk is None or not flow.steps.exists():
        return problems_by_step([])
    return problems_by_step(flow_problems(flow))
