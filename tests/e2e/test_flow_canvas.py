"""The flow canvas in a browser: a branching flow drawn, saved and published is the
flow typed in the steps table."""

import re
from typing import Any

import pytest
from playwright.sync_api import Dialog, Locator, Page, expect

from flows.models import Flow
from tests.e2e.conftest import Screens, sign_in

# The branching flow both ways: 1 greets, 2 asks whether the contact has an email,
# 3 thanks those who have and goes to the end (5), 4 thanks the others, 5 ends.
GREETING = "Hola {{NOMBRE}}"
BIG = "Gracias, te escribimos por correo"
SMALL = "Gracias, ¿nos das tu correo?"


def node(page: Page, position: int) -> Locator:
    return page.locator(".flow-canvas-area .drawflow-node").filter(
        has=page.locator(".step-node-title", has_text=re.compile(rf"^{position} ·"))
    )


def place(page: Page, position: int) -> tuple[float, float]:
    """Where a step's node is drawn in the canvas."""
    area = page.locator(".flow-canvas-area").bounding_box()
    box = node(page, position).bounding_box()
    assert area is not None
    assert box is not None
    return box["x"] - area["x"], box["y"] - area["y"]


def drag(page: Page, start: Locator, end: Locator) -> None:
    """Mouse down on ``start``, through the canvas, up on ``end``, once the canvas
    is drawn anew after the last change."""
    expect(page.locator(".flow-canvas-root[data-pending]")).to_have_count(0)
    start.scroll_into_view_if_needed()
    first, last = start.bounding_box(), end.bounding_box()
    assert first is not None
    assert last is not None
    page.mouse.move(first["x"] + first["width"] / 2, first["y"] + first["height"] / 2)
    page.mouse.down()
    page.mouse.move(
        last["x"] + last["width"] / 2, last["y"] + last["height"] / 2, steps=8
    )
    page.mouse.up()


def connect(page: Page, source: int, output: int, target: int) -> None:
    drag(
        page,
        node(page, source).locator(f".output_{output}"),
        node(page, target).locator(".input_1"),
    )


def add_step(page: Page, kind: str) -> Locator:
    """A step of ``kind`` from the palette: its row, shown under the canvas."""
    page.locator(".flow-canvas-palette").get_by_role(
        "button", name=kind, exact=True
    ).click()
    return page.locator("tr.step-row.flow-canvas-selected")


def publish(page: Page) -> None:
    def accept(dialog: Dialog) -> None:
        dialog.accept()

    page.once("dialog", accept)
    page.locator(".object-tools").get_by_role("button", name="Publish").click()
    expect(page.locator(".messagelist")).to_contain_text("published as version 1.")


def version_steps(name: str) -> list[dict[str, Any]]:
    flow = Flow.objects.select_related("current_version").get(name=name)
    assert flow.current_version is not None
    # The steps' row ids differ between two flows; all else must not.
    return [
        {key: value for key, value in step.items() if key != "id"}
        for step in flow.current_version.steps
    ]


def build_on_canvas(page: Page, screens: Screens, channel: str) -> None:
    page.goto("/admin/flows/flow/add/")
    page.fill("#id_name", "Drawn")
    expect(page.locator(".flow-canvas-area")).to_be_visible()

    row = add_step(page, "Send a message")
    row.locator("[name$=-channel]").select_option(label=channel)
    row.locator("[name$=-body]").fill(GREETING)
    row = add_step(page, "Branch on a condition")
    row.locator("[name$=-condition_field]").fill("EMAIL")
    row.locator("[name$=-condition_op]").select_option("is_set")
    row = add_step(page, "Send a message")
    row.locator("[name$=-channel]").select_option(label=channel)
    row.locator("[name$=-body]").fill(BIG)
    row = add_step(page, "Send a message")
    row.locator("[name$=-channel]").select_option(label=channel)
    row.locator("[name$=-body]").fill(SMALL)
    add_step(page, "End")
    for position in range(1, 6):
        expect(node(page, position)).to_be_visible()
    # Steps lead to the next one down until told otherwise: drawn dashed.
    expect(page.locator(".connection.implicit")).to_have_count(3)

    connect(page, 2, 1, 3)  # yes
    connect(page, 2, 2, 4)  # no
    connect(page, 3, 1, 5)  # then: past step 4, to the end
    expect(page.locator(".connection")).to_have_count(5)
    screens.shot(page, "flow-canvas-drawn")
    # The canvas wrote the steps' "go to" fields.
    assert page.locator("[name=steps-1-yes_step]").input_value() == "3"
    assert page.locator("[name=steps-1-no_step]").input_value() == "4"
    assert page.locator("[name=steps-2-next_step]").input_value() == "5"

    page.get_by_role("button", name="Save and continue editing").click()
    expect(page.locator(".messagelist")).to_contain_text("was added successfully")
    screens.shot(page, "flow-canvas-saved")
    expect(page.locator(".messagelist .warning")).to_have_count(0)
    expect(page.locator(".flow-canvas-area .connection")).to_have_count(5)
    expect(page.locator(".drawflow-node.has-problems")).to_have_count(0)
    publish(page)
    screens.shot(page, "flow-canvas-published")


def build_in_table(page: Page, channel: str) -> None:
    page.goto("/admin/flows/flow/add/")
    page.fill("#id_name", "Typed")
    page.get_by_role("button", name="Steps table").click()
    steps = page.locator("#steps-group")
    add = steps.get_by_role("button", name=re.compile("Add another", re.I))
    rows: list[tuple[str, dict[str, str]]] = [
        ("send", {"body": GREETING}),
        (
            "branch",
            {
                "condition_field": "EMAIL",
                "yes_step": "3",
                "no_step": "4",
            },
        ),
        ("send", {"body": BIG, "next_step": "5"}),
        ("send", {"body": SMALL}),
        ("end", {}),
    ]
    for index, (kind, fields) in enumerate(rows):
        add.click()
        page.select_option(f"[name=steps-{index}-kind]", kind)
        if kind == "send":
            page.select_option(f"[name=steps-{index}-channel]", label=channel)
        if kind == "branch":
            page.select_option(f"[name=steps-{index}-condition_op]", "is_set")
        for name, text in fields.items():
            page.fill(f"[name=steps-{index}-{name}]", text)
    page.get_by_role("button", name="Save and continue editing").click()
    expect(page.locator(".messagelist")).to_contain_text("was added successfully")
    expect(page.locator(".messagelist .warning")).to_have_count(0)
    publish(page)


@pytest.mark.django_db(transaction=True)
def test_a_branching_flow_drawn_on_the_canvas_publishes_as_the_one_typed_in_the_table(
    page: Page, screens: Screens, make_operator: Any, make_channel: Any
) -> None:
    channel = make_channel(name="Console")
    operator = make_operator()
    sign_in(page, screens, operator.username, "flow-canvas-login")

    build_on_canvas(page, screens, channel.name)
    build_in_table(page, channel.name)

    drawn, typed = version_steps("Drawn"), version_steps("Typed")
    assert [step["kind"] for step in drawn] == ["send", "branch", "send", "send", "end"]
    assert drawn == typed


@pytest.mark.django_db(transaction=True)
def test_the_canvas_points_at_the_step_a_problem_is_in(
    page: Page, screens: Screens, make_operator: Any, make_flow: Any
) -> None:
    flow = make_flow(name="Unfinished", publish=False)  # 1 sends, 2 ends
    step = flow.steps.get(position=1)
    step.body = ""
    step.save()
    operator = make_operator()
    sign_in(page, screens, operator.username, "flow-canvas-problem-login")
    page.goto(f"/admin/flows/flow/{flow.pk}/change/")

    expect(node(page, 1)).to_have_class(re.compile(r"\bhas-problems\b"))
    expect(node(page, 1).locator(".step-node-problems")).to_contain_text("Step 1")
    expect(node(page, 2)).not_to_have_class(re.compile(r"\bhas-problems\b"))
    # Deleting the end step on the canvas ticks its row's Delete; saved, the
    # flow's problem (no End step) shows above the canvas.
    node(page, 2).click()
    page.keyboard.press("Delete")
    expect(node(page, 2)).to_have_count(0)
    page.get_by_role("button", name="Save and continue editing").click()
    expect(page.locator(".flow-canvas-problems")).to_contain_text(
        "The flow has no End step."
    )
    screens.shot(page, "flow-canvas-problems")
    assert not flow.steps.filter(position=2).exists()


@pytest.mark.django_db(transaction=True)
def test_a_step_moved_on_the_canvas_stays_where_it_was_put(
    page: Page, screens: Screens, make_operator: Any, make_flow: Any
) -> None:
    flow = make_flow(name="Moved", publish=False)  # 1 sends, 2 ends
    operator = make_operator()
    sign_in(page, screens, operator.username, "flow-canvas-move-login")
    page.goto(f"/admin/flows/flow/{flow.pk}/change/")
    before = place(page, 2)

    page.locator(".flow-canvas-area").scroll_into_view_if_needed()
    title = node(page, 2).locator(".step-node-title").bounding_box()
    assert title is not None
    page.mouse.move(title["x"] + 10, title["y"] + 5)
    page.mouse.down()
    page.mouse.move(title["x"] + 10, title["y"] + 205, steps=8)
    page.mouse.up()
    moved = place(page, 2)
    assert moved[1] - before[1] > 150
    page.get_by_role("button", name="Save and continue editing").click()
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")

    flow.refresh_from_db()
    assert set(flow.canvas_layout) == {"1", "2"}, flow.canvas_layout
    after = place(page, 2)
    assert abs(after[0] - moved[0]) < 2
    assert abs(after[1] - moved[1]) < 2
    screens.shot(page, "flow-canvas-moved")
