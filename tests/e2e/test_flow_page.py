"""The flow page and its preview in a browser: only the chosen trigger's settings,
arrows that go round the boxes, and a fallback told apart from a typo."""

import datetime as dt
import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from audiences.models import Variable
from flows.models import FlowStep
from tests.e2e.conftest import Screens, sign_in


@pytest.mark.django_db(transaction=True)
def test_the_trigger_settings_show_only_for_the_trigger_chosen(
    page: Page, screens: Screens, make_operator: Any, make_flow: Any
) -> None:
    flow = make_flow(name="Manual one", publish=False)
    sign_in(page, screens, make_operator().username, "flow-page-login")
    page.goto(f"/admin/flows/flow/{flow.pk}/change/")
    event = page.locator("fieldset.for-event")
    audience = page.locator("fieldset.for-audience")
    conditions = page.locator("#event_conditions-group")

    expect(page.locator("#id_trigger")).to_have_value("manual")
    expect(event).to_be_hidden()
    expect(audience).to_be_hidden()
    expect(conditions).to_be_hidden()
    expect(page.get_by_label("Event name")).to_be_hidden()
    screens.shot(page, "flow-page-manual")

    page.select_option("#id_trigger", "event")
    expect(event).to_be_visible()
    expect(conditions).to_be_visible()
    expect(audience).to_be_hidden()
    page.select_option("#id_trigger", "audience")
    expect(audience).to_be_visible()
    expect(event).to_be_hidden()
    expect(conditions).to_be_hidden()
    screens.shot(page, "flow-page-audience")


def _points(path: str) -> list[tuple[float, float]]:
    return [(float(x), float(y)) for x, y in re.findall(r"(-?[\d.]+),(-?[\d.]+)", path)]


@pytest.mark.django_db(transaction=True)
def test_the_preview_draws_wait_to_end_round_the_end_box_and_knows_fallbacks(
    page: Page, screens: Screens, make_operator: Any, make_flow: Any
) -> None:
    Variable.objects.create(name="NOMBRE", kind="text")
    # 1 sends, 2 asks, yes: 3 waits then 4 ends; no: 4 (3 and 4 share a row).
    flow = make_flow(
        name="Fallbacks",
        publish=False,
        body="Hola {{NOMBRE|cliente}}, en {{CIUDAD|CDMX}}: {{CUPON}}",
    )
    FlowStep.objects.filter(flow=flow, position=2).update(
        kind="branch",
        condition_field="NOMBRE",
        condition_op="equals",
        condition_value="Ana",
        yes_step=3,
        no_step=4,
    )
    FlowStep.objects.create(
        flow=flow, position=3, kind="wait", wait=dt.timedelta(minutes=1), next_step=4
    )
    FlowStep.objects.create(flow=flow, position=4, kind="end")
    sign_in(page, screens, make_operator().username, "preview-login")

    page.goto(f"/admin/flows/flow/{flow.pk}/preview/")

    flags = page.locator("table.preview-messages")
    expect(flags).to_contain_text("CIUDAD is not a variable: every contact gets 'CDMX'")
    expect(flags).to_contain_text("CUPON: no contact has this variable (a typo?)")
    expect(flags).not_to_contain_text("CIUDAD: no contact has this variable")
    end = page.locator('svg.flow-chain g[data-position="4"] rect').bounding_box()
    svg = page.locator("svg.flow-chain").bounding_box()
    arrow = page.locator('svg.flow-chain path[data-from="3"][data-to="4"]')
    assert end is not None
    assert svg is not None
    points = _points(arrow.get_attribute("d") or "")
    left, top = end["x"] - svg["x"], end["y"] - svg["y"]
    right, bottom = left + end["width"], top + end["height"]
    for (x1, y1), (x2, y2) in zip(points, points[1:], strict=False):
        inside = (
            min(x1, x2) < right - 2
            and max(x1, x2) > left + 2
            and min(y1, y2) < bottom - 2
            and max(y1, y2) > top + 2
        )
        assert not inside, f"the Wait → End arrow crosses the End box: {points}"
    screens.shot(page, "preview-fallbacks")
