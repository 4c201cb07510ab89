"""Targeting in a browser: the campaign form and the bulk message pick several
groups, an excluded group and conditions, and count them before saving."""

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from audiences.models import Contact, Membership
from campaigns.models import Campaign
from tests.e2e.conftest import Screens, sign_in


def choose(page: Page, field_id: str, search: str, option: str) -> None:
    page.locator(f"#{field_id} + .select2").click()
    page.locator(".select2-container--open .select2-search__field").fill(search)
    page.locator(".select2-results__option", has_text=option).click()


@pytest.mark.django_db(transaction=True)
def test_an_operator_targets_two_groups_minus_one_with_a_condition(
    page: Page,
    screens: Screens,
    make_operator: Any,
    make_flow: Any,
    make_group: Any,
    make_channel: Any,
) -> None:
    make_flow(name="Buen Fin")
    make_channel(name="WhatsApp MX")
    make_group(["+525500000001", "+525500000002"], name="Clientes 2024")
    make_group(["+525500000002", "+525500000003", "+525500000004"], name="Tienda")
    make_group(["+525500000003"], name="Bloqueados")
    Contact.objects.filter(phone="+525500000004").update(opted_out_at=timezone.now())
    Contact.objects.filter(phone="+525500000001").update(name="Ana VIP")
    Contact.objects.filter(phone="+525500000002").update(name="Beto VIP")
    operator = make_operator()
    sign_in(page, screens, operator.username, "targeting-login")

    page.goto("/admin/campaigns/campaign/add/")
    page.fill("#id_name", "Buen Fin VIP")
    choose(page, "id_flow", "Buen", "Buen Fin")
    choose(page, "id_group", "Clientes", "Clientes 2024")
    choose(page, "id_also_groups", "Tien", "Tienda")
    choose(page, "id_excluded_groups", "Bloq", "Bloqueados")
    start = timezone.localtime() + dt.timedelta(hours=2)
    for name, when in (("start_at", start), ("end_at", start + dt.timedelta(days=1))):
        page.fill(f"#id_{name}_0", when.strftime("%Y-%m-%d"))
        page.fill(f"#id_{name}_1", when.strftime("%H:%M:%S"))
    page.fill("#id_rules-0-field", "NAME")
    page.select_option("#id_rules-0-op", "contains")
    page.fill("#id_rules-0-value", "VIP")
    page.get_by_role("button", name="Count recipients").click()

    # Ana and Beto; the opted-out contact of Tienda has no VIP in the name.
    expect(page.locator(".audience-count")).to_contain_text("Goes to 2 contacts.")
    screens.shot(page, "targeting-campaign-form-counted")
    assert not Campaign.objects.exists()
    page.locator("input[name=_save]").click()
    expect(page.locator(".messagelist")).to_contain_text("Goes to 2 contacts.")
    campaign = Campaign.objects.get(name="Buen Fin VIP")
    assert [g.name for g in campaign.also_groups.all()] == ["Tienda"]
    assert [g.name for g in campaign.excluded_groups.all()] == ["Bloqueados"]
    expect(page.locator("#result_list")).to_contain_text("+ Tienda − Bloqueados")
    screens.shot(page, "targeting-campaign-list")

    page.goto("/admin/campaigns/campaign/bulk/")
    page.fill("#id_name", "Aviso")
    choose(page, "id_group", "Clientes", "Clientes 2024")
    choose(page, "id_also_groups", "Tien", "Tienda")
    choose(page, "id_excluded_groups", "Bloq", "Bloqueados")
    page.select_option("#id_channel", label="WhatsApp MX")
    page.fill("#id_body", "Hola {{NOMBRE}}")
    page.get_by_role("button", name="Preview").click()
    expect(page.locator("#content")).to_contain_text(
        "Goes to 2 contacts; 1 opted out is skipped."
    )
    screens.shot(page, "targeting-bulk-preview")
    assert Membership.objects.filter(group__name="Tienda").count() == 3
