"""The preview's flow picture: every arrow runs between the boxes, from its step to
its target, never through another step's box."""

import re
import xml.etree.ElementTree as ET
from typing import Any

import pytest

from flows.preview import flow_svg
from flows.routing import Point

SVG = "{http://www.w3.org/2000/svg}"
Box = tuple[int, int, int, int]  # left, top, right, bottom


def _steps(*specs: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"next": None, "yes": None, "no": None, **spec} for spec in specs]


# Every kind of step and way: send, wait, reply (its three ways), group, branch
# yes/no, loops back, ways that skip rows, a way to a step on the same row (the
# Wait → End of issue 19), a way to itself, and a step nothing leads to.
FLOWS = {
    "wait then end beside a send": _steps(
        {"position": 1, "kind": "send"},
        {"position": 2, "kind": "branch", "yes": 3, "no": 4},
        {"position": 3, "kind": "wait", "next": 4},
        {"position": 4, "kind": "end"},
    ),
    "reply with three ways": _steps(
        {"position": 1, "kind": "send"},
        {
            "position": 2,
            "kind": "reply",
            "reply": {"test": "keywords", "words": "SI"},
            "yes": 3,
            "no": 2,
            "timeout": 6,
        },
        {"position": 3, "kind": "send", "next": 5},
        {"position": 4, "kind": "group", "next": 6},
        {"position": 5, "kind": "wait", "next": 6},
        {"position": 6, "kind": "end"},
    ),
    "waiting loop and skips": _steps(
        {"position": 1, "kind": "send"},
        {"position": 2, "kind": "wait"},
        {"position": 3, "kind": "branch", "yes": 7, "no": 4},
        {"position": 4, "kind": "send"},
        {"position": 5, "kind": "wait"},
        {"position": 6, "kind": "branch", "yes": 7, "no": 2},
        {"position": 7, "kind": "end"},
    ),
    "wide branches meeting back": _steps(
        {"position": 1, "kind": "branch", "yes": 2, "no": 3},
        {"position": 2, "kind": "branch", "yes": 4, "no": 5},
        {"position": 3, "kind": "branch", "yes": 6, "no": 1},
        {"position": 4, "kind": "send", "next": 9},
        {"position": 5, "kind": "wait", "next": 1},
        {"position": 6, "kind": "send", "next": 7},
        {"position": 7, "kind": "wait", "next": 4},
        {"position": 8, "kind": "send", "next": 2},
        {"position": 9, "kind": "end"},
    ),
}


def _points(path: str) -> list[Point]:
    return [(int(x), int(y)) for x, y in re.findall(r"(-?\d+),(-?\d+)", path)]


def _crosses(a: Point, b: Point, box: Box) -> bool:
    """Whether the horizontal or vertical segment a–b enters the inside of box."""
    left, top, right, bottom = box
    (x1, y1), (x2, y2) = a, b
    assert x1 == x2 or y1 == y2, f"{a}–{b} is not horizontal or vertical"
    low_x, high_x, low_y, high_y = min(x1, x2), max(x1, x2), min(y1, y2), max(y1, y2)
    return low_x < right and high_x > left and low_y < bottom and high_y > top


def _on_side(point: Point, box: Box, side: str) -> bool:
    left, top, right, bottom = box
    x, y = point
    return left < x < right and y == (bottom if side == "bottom" else top)


def picture(steps: list[dict[str, Any]]) -> tuple[dict[int, Box], list[Any]]:
    root = ET.fromstring(str(flow_svg(steps)))
    boxes = {}
    for group in root.iter(f"{SVG}g"):
        rect = group.find(f"{SVG}rect")
        assert rect is not None
        x, y = int(rect.get("x", "")), int(rect.get("y", ""))
        w, h = int(rect.get("width", "")), int(rect.get("height", ""))
        boxes[int(group.get("data-position", ""))] = (x, y, x + w, y + h)
    arrows = [
        (
            int(p.get("data-from", "")),
            int(p.get("data-to", "")),
            _points(p.get("d", "")),
        )
        for p in root.iter(f"{SVG}path")
        if p.get("data-from")
    ]
    return boxes, arrows


@pytest.mark.django_db
@pytest.mark.parametrize("name", FLOWS)
def test_no_arrow_crosses_a_box_and_each_runs_from_its_step_to_its_target(
    name: str,
) -> None:
    steps = FLOWS[name]
    boxes, arrows = picture(steps)

    ways = (
        sum(1 for s in steps if s["kind"] != "end")
        + sum(1 for s in steps if s["kind"] in ("branch",))
        + sum(2 for s in steps if s["kind"] == "reply")
    )
    assert len(arrows) == ways
    width, height = (
        int(v)
        for v in re.findall(r'viewBox="0 0 (\d+) (\d+)"', str(flow_svg(steps)))[0]
    )
    for source, target, points in arrows:
        assert _on_side(points[0], boxes[source], "bottom"), (source, target, points)
        assert _on_side(points[-1], boxes[target], "top"), (source, target, points)
        for a, b in zip(points, points[1:], strict=False):
            for position, box in boxes.items():
                assert not _crosses(a, b, box), (
                    f"{name}: the arrow {source} → {target} crosses step {position}"
                )
        for x, y in points:
            assert 0 <= x <= width, (source, target, points)
            assert 0 <= y <= height, (source, target, points)


@pytest.mark.django_db
def test_the_wait_to_end_arrow_of_a_row_runs_around_the_end_box() -> None:
    # Issue 19: 3 (wait) and 4 (end) share a row; the arrow went through 4.
    boxes, arrows = picture(FLOWS["wait then end beside a send"])
    (points,) = [p for source, target, p in arrows if (source, target) == (3, 4)]
    assert boxes[3][1] == boxes[4][1]
    assert not any(
        _crosses(a, b, boxes[4]) for a, b in zip(points, points[1:], strict=False)
    )
