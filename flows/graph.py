"""The step graph of a flow: where each step leads, and whether every path is sound.

Works on step snapshots (the dicts a FlowVersion stores), so a working copy and a
published version are checked and drawn the same way. A step leads to the step it
names as next, or by default to the step after it; a branch leads to its yes and no
steps; a wait for a reply to its reply, other-reply and no-reply steps; an end leads
nowhere.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

Step = dict[str, Any]

SEND, WAIT, BRANCH, END = "send", "wait", "branch", "end"
REPLY, GROUP = "reply", "group"
# Steps that hold a contact for a while: a loop through one of them is not runaway.
HOLDING = (WAIT, REPLY)
# Steps a contact passes through at once, on its way to a wait, branch or end.
PASSING = (SEND, GROUP)


def ordered(steps: Iterable[Step]) -> list[Step]:
    return sorted(steps, key=lambda step: step["position"])


def successors(step: Step, steps: list[Step]) -> list[tuple[str, int | None]]:
    """(label, position) for each way out of ``step``; position None: nowhere."""
    if step["kind"] == END:
        return []
    if step["kind"] == BRANCH:
        return [("yes", step.get("yes")), ("no", step.get("no"))]
    if step["kind"] == REPLY:
        ways = [("reply", step.get("yes"))]
        if (step.get("reply") or {}).get("test", "any") != "any":
            ways.append(("other reply", step.get("no")))
        return [*ways, ("no reply", step.get("timeout"))]
    target = step.get("next")
    if target is None:
        later = [s["position"] for s in steps if s["position"] > step["position"]]
        target = min(later) if later else None
    return [("", target)]


def edges(steps: list[Step]) -> dict[int, list[tuple[str, int | None]]]:
    return {step["position"]: successors(step, steps) for step in steps}


def reachable(steps: list[Step]) -> list[int]:
    """Positions reachable from the first step, in the order a walk meets them."""
    if not steps:
        return []
    out = edges(steps)
    known = {step["position"] for step in steps}
    first = ordered(steps)[0]["position"]
    seen, queue = [first], [first]
    while queue:
        position = queue.pop(0)
        for _, target in out[position]:
            if target in known and target not in seen:
                seen.append(target)
                queue.append(target)
    return seen


def graph_problems(steps: list[Step]) -> list[str]:
    """Every way the graph is unsound, as sentences naming the steps."""
    if not steps:
        return ["The flow has no steps."]
    problems: list[str] = []
    by_position = {step["position"]: step for step in steps}
    out = edges(steps)
    for step in ordered(steps):
        where = f"Step {step['position']}"
        for label, target in out[step["position"]]:
            way = f"its '{label}' path" if label else "it"
            if target is None:
                problems.append(
                    f"{where} leads nowhere: {way} must go to a step "
                    "(add an End step to finish the flow)."
                )
            elif target not in by_position:
                problems.append(
                    f"{where}: {way} goes to step {target}, which does not exist."
                )
            elif target == step["position"] and not (
                step["kind"] == REPLY and label == "other reply"
            ):
                # A reply that fails the test may wait again (its time starts
                # over); every other way back to itself goes round for ever.
                problems.append(f"{where}: {way} goes to itself.")
    seen = reachable(steps)
    for step in ordered(steps):
        if step["position"] not in seen:
            problems.append(
                f"Step {step['position']} can never be reached: no step leads to it."
            )
    if not any(step["kind"] == END for step in steps):
        problems.append("The flow has no End step.")
    # Every reachable step must have a way to an end.
    ends = {s["position"] for s in steps if s["kind"] == END}
    finishing = set(ends)
    changed = True
    while changed:
        changed = False
        for position, ways in out.items():
            if position not in finishing and any(t in finishing for _, t in ways):
                finishing.add(position)
                changed = True
    # A step whose way stops short (leads nowhere, or to a missing step) is named
    # above for that; one whose every way goes round without an end loops forever.
    stopping = {p for p, ways in out.items() if any(t not in out for _, t in ways)}
    for position in seen:
        stops_short = bool(({position} | _reaches(position, out)) & stopping)
        if position not in finishing and not stops_short:
            problems.append(
                f"Step {position}: no path from it reaches an End step "
                "(it loops forever)."
            )
    for step in ordered(steps):
        if step["kind"] == SEND and step["position"] in _reaches(step["position"], out):
            problems.append(
                f"Step {step['position']} sends inside a loop. A contact gets each "
                "message of a flow at most once per run, so the loop would not send "
                "it again: keep sends out of loops (a loop may wait and check a "
                "condition)."
            )
    for cycle in _loops_without_wait(steps, out):
        path = " → ".join(str(p) for p in cycle)
        problems.append(
            f"Steps {path} form a loop without a Wait step; a contact would go round "
            "it at once, forever. Put a Wait in the loop."
        )
    return problems


def _reaches(start: int, out: dict[int, list[tuple[str, int | None]]]) -> set[int]:
    """Positions reachable from ``start`` in one step or more."""
    seen: set[int] = set()
    queue = [t for _, t in out.get(start, []) if t is not None]
    while queue:
        position = queue.pop()
        if position in seen or position not in out:
            continue
        seen.add(position)
        queue.extend(t for _, t in out[position] if t is not None)
    return seen


def _loops_without_wait(
    steps: list[Step], out: dict[int, list[tuple[str, int | None]]]
) -> list[list[int]]:
    """Cycles among non-wait steps, each once."""
    active = {s["position"] for s in steps if s["kind"] not in HOLDING}
    found: list[list[int]] = []
    done: set[int] = set()

    def visit(position: int, path: list[int]) -> None:
        for _, target in out.get(position, []):
            if target is None or target not in active:
                continue
            if target in path:
                cycle = path[path.index(target) :]
                if not any(set(cycle) == set(c) for c in found):
                    found.append([*cycle, target])
            elif target not in done:
                visit(target, [*path, target])
        done.add(position)

    for step in ordered(steps):
        if step["position"] in active and step["position"] not in done:
            visit(step["position"], [step["position"]])
    return found


def by_position(steps: Iterable[Step]) -> dict[int, Step]:
    return {step["position"]: step for step in steps}


def first_position(steps: Iterable[Step]) -> int:
    return ordered(steps)[0]["position"]


def next_position(step: Step, steps: dict[int, Step]) -> int | None:
    return successors(step, ordered(steps.values()))[0][1]


@dataclass
class Segment:
    """From a step: the send and group steps met on the way, and the step that stops
    the way (a wait, a wait for a reply, a branch or an end)."""

    sends: list[Step]
    stop: Step
    groups: list[Step] = field(default_factory=list)


def segment(steps: dict[int, Step], position: int) -> Segment:
    """Follow send and group steps from ``position`` to the first wait, wait for a
    reply, branch or end.

    A step that leads nowhere (versions published before End steps were required)
    ends the way as an End step would; so does a wait with nothing after it.
    """
    sends: list[Step] = []
    groups: list[Step] = []
    step = steps[position]
    while step["kind"] in PASSING:
        (sends if step["kind"] == SEND else groups).append(step)
        target = next_position(step, steps)
        if target is None or target not in steps:
            return Segment(sends, {"kind": END, "position": step["position"]}, groups)
        step = steps[target]
    if step["kind"] == WAIT and next_position(step, steps) not in steps:
        return Segment(sends, {"kind": END, "position": step["position"]}, groups)
    return Segment(sends, step, groups)


def after_wait(stop: Step, steps: dict[int, Step]) -> int:
    """Where a wait that stops a segment leads (segment() ends the way at a wait
    leading nowhere, so there is always one)."""
    target = next_position(stop, steps)
    assert target is not None
    return target
