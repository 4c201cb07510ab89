"""The campaign form in a browser: what its links open."""

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import Screens, sign_in


def choose(page: Page, field_id: str, search: str, option: str) -> None:
    page.locator(f"#{field_id} + .select2").click()
    page.locator(".select2-container--open .select2-search__field").fill(search)
    page.locator(".select2-results__option", has_text=option).click()


@pytest.mark.django_db(transaction=True)
def test_the_form_previews_the_flow_for_the_group_chosen(
    page: Page,
    screens: Screens,
    make_operator: Any,
    make_flow: Any,
    make_group: Any,
) -> None:
    """Preview flow chain on the add form previews with the group already chosen, as
    the saved campaign's Preview flow does (it opened the flow alone, so it could
    not warn of the group's members that lack a placeholder's value)."""
    make_flow(name="Winter sale", body="Hola {{NOMBRE}}, {{MONTO}}")
    make_group(["+525500998877"], name="Winter buyers")
    operator = make_operator()
    sign_in(page, screens, operator.username, "campaign-form-login")
    page.goto("/admin/campaigns/campaign/add/")
    choose(page, "id_flow", "Winter", "Winter sale")
    with page.expect_popup() as opened:
        page.get_by_role("link", name="Preview flow chain").click()
    alone = opened.value
    expect(alone.locator("h1")).to_contain_text("Preview of Winter sale")
    assert "group=" not in alone.url
    alone.close()
    choose(page, "id_group", "Winter", "Winter buyers")
    with page.expect_popup() as opened:
        page.get_by_role("link", name="Preview flow chain").click()
    preview = opened.value
    expect(preview.locator("#content")).to_contain_text("Group: Winter buyers.")
    screens.shot(preview, "campaign-form-preview-with-group")
