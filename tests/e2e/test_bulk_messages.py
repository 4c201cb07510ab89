"""Seed 004's bulk messages in a browser: composed and previewed on their own page,
changed while scheduled, sent, then found in the Bulk messages list, locked, with
their report and their messages."""

import datetime as dt
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from audiences.models import Contact
from campaigns.models import Campaign
from campaigns.runs import campaign_tick
from messaging.sending import messages_send_range
from tests.conftest import batch_of
from tests.e2e.conftest import Screens, sign_in
from tests.e2e.test_targeting_form import choose

PHONES = ["+525500000101", "+525500000102", "+525500000103"]


@pytest.mark.django_db(transaction=True)
def test_an_operator_composes_previews_sends_and_finds_a_bulk_message(
    page: Page,
    screens: Screens,
    make_operator: Any,
    make_group: Any,
    make_channel: Any,
    make_flow: Any,
) -> None:
    make_group(PHONES, name="Clientes CDMX")
    make_channel(name="SMS MX")
    make_flow(name="Bienvenida")  # an ordinary flow, for the campaign form below
    Contact.objects.filter(phone=PHONES[0]).update(data={"NOMBRE": "Ana"})
    operator = make_operator()
    sign_in(page, screens, operator.username, "bulk-login")

    # The console's menu has a list of its own; compose from there.
    page.goto("/admin/")
    page.locator("#content-main").get_by_role("link", name="Bulk messages").click()
    expect(page.locator("h1")).to_contain_text("bulk message")
    page.get_by_role("link", name="Add bulk message").click()
    page.fill("#id_name", "Buen Fin")
    choose(page, "id_group", "Clientes", "Clientes CDMX")
    page.select_option("#id_channel", label="SMS MX")
    page.fill("#id_body", "Hola {{NOMBRE|cliente}} 🎉 -30% hoy")
    page.get_by_role("button", name="Preview").click()
    phone = page.locator(".phone")
    expect(phone).to_contain_text("Hola Ana 🎉 -30% hoy")
    expect(page.locator("#content")).to_contain_text("Goes to 3 contacts.")
    screens.shot(page, "bulk-preview")
    assert not Campaign.objects.exists()

    page.get_by_role("button", name="Schedule the send").click()
    # Its own page, with its text, not the campaign form.
    expect(page.locator(".messagelist")).to_contain_text("Bulk message 'Buen Fin'")
    expect(page.locator("#id_body")).to_have_value(
        "Hola {{NOMBRE|cliente}} 🎉 -30% hoy"
    )
    expect(page.locator(".bulk-status")).to_contain_text("Scheduled")
    # Its recipients counted after the page is shown.
    expect(page.locator("#content")).to_contain_text("Goes to 3 contacts.")
    expect(page.locator("#id_flow")).to_have_count(0)
    screens.shot(page, "bulk-saved")

    # Changed while scheduled.
    page.fill("#id_body", "Hola {{NOMBRE|cliente}} 🎉 -40% hoy")
    page.get_by_role("button", name="Save the changes").click()
    expect(page.locator("#id_body")).to_have_value(
        "Hola {{NOMBRE|cliente}} 🎉 -40% hoy"
    )
    expect(page.locator(".phone")).to_contain_text("Hola Ana 🎉 -40% hoy")

    # The send: its clocked schedule fires, the messages go out.
    campaign = Campaign.objects.get()
    run = campaign_tick(
        campaign_id=campaign.pk, now=campaign.start_at + dt.timedelta(seconds=1)
    )
    assert run is not None
    messages_send_range(batch_id=batch_of(run), first_id=0, last_id=10**9)

    page.goto("/admin/campaigns/bulkmessage/")
    row = page.locator("#result_list tr", has_text="Buen Fin")
    expect(row).to_contain_text("SMS MX")
    expect(row).to_contain_text("Clientes CDMX")
    expect(row).to_contain_text("as soon as possible")
    expect(row.locator(".field-status_badge")).to_have_text("Sent")
    expect(row.locator(".field-recipients")).to_have_text("3")
    expect(row.locator(".field-sent")).to_have_text("3")
    expect(row.locator(".field-failed")).to_have_text("0")
    screens.shot(page, "bulk-list")

    row.get_by_role("link", name="Buen Fin").click()
    expect(page.locator(".bulk-locked")).to_contain_text("has been sent")
    expect(page.get_by_role("button", name="Save the changes")).to_have_count(0)
    expect(page.locator("#id_body")).to_be_disabled()
    report = page.locator(".bulk-report")
    expect(report).to_contain_text("Sent: 3")  # its monitor, after the page
    screens.shot(page, "bulk-report")
    report.get_by_role("link", name="Its messages").click()
    expect(page.locator("#result_list tbody tr")).to_have_count(3)

    # Nowhere among the campaigns, their plans or their flows.
    page.goto("/admin/campaigns/campaign/")
    expect(page.locator("#content")).not_to_contain_text("Buen Fin")
    page.goto("/admin/campaigns/campaign/add/")
    expect(page.locator("#id_schedule option[value=once]")).to_have_count(0)
    page.goto("/admin/flows/flow/")
    expect(page.locator("#result_list")).to_contain_text("Bienvenida")
    expect(page.locator("#result_list")).not_to_contain_text("Bulk: Buen Fin")
