"""An operator looks for a campaign's messages, opens one, and reads a contact's
long history a page at a time."""

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from audiences.models import Contact
from campaigns.lifecycle import campaign_transition
from campaigns.runs import campaign_tick
from messaging.models import Batch, Channel, Message
from tests.e2e.conftest import Screens, sign_in


@pytest.mark.django_db(transaction=True)
def test_an_operator_filters_messages_by_campaign_and_opens_one_without_machinery(
    page: Page, screens: Screens, make_operator: Any, make_campaign: Any
) -> None:
    for name in ("Spring sale", "Autumn sale"):
        campaign = make_campaign(started=True, name=name)
        campaign_transition(campaign=campaign, to="in_progress")
        assert campaign_tick(campaign_id=campaign.pk) is not None
    operator = make_operator()

    sign_in(page, screens, operator.username, "operator-login")
    page.goto("/admin/messaging/message/")
    sidebar = page.locator("#changelist-filter")
    for title in ("By campaign", "By run", "By channel", "By date"):
        expect(sidebar).to_contain_text(title)
    sidebar.locator("details[data-filter-title=campaign]").get_by_role(
        "link", name="Autumn sale"
    ).click()
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(3)
    for index in range(3):
        expect(rows.nth(index)).to_contain_text("Autumn sale")
    screens.shot(page, "messages-of-a-campaign")

    rows.first.locator("th a, td a").first.click()
    expect(page.locator("#content")).to_contain_text("Delivery report")
    technical = page.locator("fieldset.collapse, details", has_text="Technical")
    expect(technical.first).to_be_visible()
    expect(page.get_by_text("Lease until")).not_to_be_visible()
    screens.shot(page, "a-message")


@pytest.mark.django_db(transaction=True)
def test_an_operator_pages_through_a_long_timeline(
    page: Page,
    screens: Screens,
    make_operator: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    contact = Contact.objects.create(phone="+525599887733", name="Larga")
    channel = Channel.objects.create(name="Console line")
    batch = Batch.objects.create(name="History")
    monkeypatch.setattr(Message._meta.get_field("created_at"), "auto_now_add", False)
    start = timezone.now() - dt.timedelta(days=3)
    Message.objects.bulk_create(
        Message(
            batch=batch,
            contact=contact,
            step=1,
            channel=channel,
            created_at=start + dt.timedelta(minutes=minute),
        )
        for minute in range(120)
    )
    operator = make_operator()

    sign_in(page, screens, operator.username, "operator-login")
    page.goto(f"/admin/audiences/contact/{contact.pk}/change/")
    timeline = page.locator(".contact-timeline")
    expect(timeline.locator("tr")).to_have_count(50)
    expect(timeline.get_by_role("link", name="← Newer events")).to_have_count(0)
    screens.shot(page, "timeline-first-page")

    timeline.get_by_role("link", name="Older events →").click()
    expect(page.locator(".contact-timeline tr")).to_have_count(50)
    page.get_by_role("link", name="Older events →").click()
    expect(page.locator(".contact-timeline tr")).to_have_count(20)
    expect(page.get_by_role("link", name="Older events →")).to_have_count(0)
    oldest = timezone.localtime(start).strftime("%Y-%m-%d %H:%M")
    expect(page.locator(".contact-timeline tr").last).to_contain_text(oldest)
    screens.shot(page, "timeline-last-page")

    page.get_by_role("link", name="← Newer events").click()
    expect(page.locator(".contact-timeline tr")).to_have_count(50)
    expect(page.get_by_role("link", name="← Newer events")).to_be_visible()
