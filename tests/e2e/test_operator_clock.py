"""Each operator's own clock, in a browser: their zone chosen on My settings, times
shown in it, and zones typed as offsets."""

import datetime as dt
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import Screens, sign_in


@pytest.mark.django_db(transaction=True)
def test_an_operator_in_bogota_sees_a_held_message_in_bogota_time(
    page: Page, screens: Screens, make_operator: Any, make_campaign: Any
) -> None:
    """A message held until 20:00 in Bogotá read "from 01:00 UTC" (the next day)."""
    from campaigns.models import Campaign
    from campaigns.runs import campaign_tick
    from messaging.models import Message

    campaign = make_campaign(started=True)
    Campaign.objects.filter(pk=campaign.pk).update(status="in_progress")
    assert campaign_tick(campaign_id=campaign.pk) is not None
    held = Message.objects.first()
    assert held is not None
    opening = dt.datetime(2031, 3, 3, 1, 0, tzinfo=dt.UTC)  # 20:00 the 2nd, Bogotá
    Message.objects.filter(pk=held.pk).update(status="deferred", not_before=opening)
    operator = make_operator()
    sign_in(page, screens, operator.username, "clock-login")

    page.locator("#user-tools").get_by_role("link", name="My settings").click()
    page.fill("#id_time_zone", "America/Bogota")
    screens.shot(page, "clock-my-settings")
    page.locator("#my-settings-form").get_by_role("button", name="Save").click()
    expect(page.locator(".messagelist")).to_contain_text(
        "Times are now shown to you in America/Bogota (GMT-5)."
    )
    expect(page.locator("#user-tools")).to_contain_text("America/Bogota")

    page.goto("/admin/messaging/message/")
    row = page.locator("#result_list tbody tr").first
    expect(row).to_contain_text("from 2031-03-02 20:00 -05")
    screens.shot(page, "clock-held-message-in-bogota")


@pytest.mark.django_db(transaction=True)
def test_gmt_minus_5_is_accepted_as_a_campaigns_zone_and_shown_back_so(
    page: Page, screens: Screens, make_operator: Any, make_campaign: Any
) -> None:
    """Seed 003 writes zones so ("GMT-5"): refused before, the hint asking for
    Etc/GMT+5."""
    campaign = make_campaign()
    operator = make_operator()
    sign_in(page, screens, operator.username, "clock-zone-login")
    page.goto(f"/admin/campaigns/campaign/{campaign.pk}/change/")
    zone = page.locator("#id_timezone")
    expect(zone).to_have_attribute("list", "id_timezone_zones")
    zone.fill("nowhere")
    page.locator("#campaign_form").get_by_role(
        "button", name="Save", exact=True
    ).click()
    expect(page.locator(".errorlist")).to_contain_text("'nowhere' is not a time zone")

    page.locator("#id_timezone").fill("GMT-5")
    screens.shot(page, "clock-campaign-zone-typed")
    page.locator("#campaign_form").get_by_role(
        "button", name="Save", exact=True
    ).click()
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")

    campaign.refresh_from_db()
    assert campaign.timezone == "Etc/GMT+5"
    page.goto(f"/admin/campaigns/campaign/{campaign.pk}/change/")
    expect(page.locator("#id_timezone")).to_have_value("GMT-5")
    date = page.locator("#id_start_at_0")
    expect(date).to_have_attribute("placeholder", "YYYY-MM-DD")
    screens.shot(page, "clock-campaign-zone-shown-back")
