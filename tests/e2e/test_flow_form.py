"""The flow form in a browser: adding steps."""

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import Screens, sign_in


@pytest.mark.django_db(transaction=True)
def test_a_step_added_in_the_form_comes_numbered_after_the_last(
    page: Page, screens: Screens, make_operator: Any, make_flow: Any
) -> None:
    flow = make_flow(name="Numbered", publish=False)  # steps at positions 1 and 2
    operator = make_operator()
    sign_in(page, screens, operator.username, "flow-form-login")
    page.goto(f"/admin/flows/flow/{flow.pk}/change/")
    page.get_by_role("button", name="Steps table").click()  # not the canvas

    page.locator("#steps-group").get_by_role(
        "button", name=re.compile("Add another", re.I)
    ).click()

    added = page.locator(
        'table.flow-steps input[name$="-position"]:not([name*="__prefix__"])'
    )
    expect(added.last).to_have_value("3")
    page.locator("#steps-group").get_by_role(
        "button", name=re.compile("Add another", re.I)
    ).click()
    expect(added.last).to_have_value("4")
    screens.shot(page, "flow-form-step-added")
