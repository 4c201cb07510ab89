"""A page left open while its campaign started: deleting, saving or suspending from
it is refused with the campaign's own reason, on the campaign's page, never with a
role's."""

from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from playwright.sync_api import Page, expect

from base.roles import roles_sync
from campaigns.lifecycle import campaign_transition
from campaigns.models import Campaign
from tests.e2e.conftest import PASSWORD, Screens, sign_in

ROLE_WORDS = ("no role", "Your role", "stay with administrators")


def make_operator_role(username: str) -> User:
    roles_sync()  # the groups, emptied by the previous test's flush
    user = User.objects.create_user(username, password=PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get(name="Operator"))
    return user


def expect_refused_on_campaign_page(
    page: Page, campaign: Campaign, reason: str
) -> None:
    expect(page).to_have_url(f"/admin/campaigns/campaign/{campaign.pk}/change/")
    errors = page.locator(".messagelist .error")
    expect(errors).to_contain_text(reason)
    for words in ROLE_WORDS:
        expect(page.locator("#content")).not_to_contain_text(words)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("who", ["superuser", "Operator"])
def test_a_stale_page_is_refused_with_the_campaigns_status(
    page: Page, screens: Screens, make_operator: Any, make_campaign: Any, who: str
) -> None:
    user = make_operator("ada") if who == "superuser" else make_operator_role("olga")
    campaign = make_campaign(started=True, name="Spring sale")
    sign_in(page, screens, user.username, f"refusals-{who}-login")

    # The list, read while the campaign waits: Modify and Delete are offered.
    page.goto("/admin/campaigns/campaign/")
    row = page.locator("#result_list tr", has_text="Spring sale")
    expect(row.get_by_role("link", name="Delete", exact=True)).to_be_visible()
    # Meanwhile (a second tab, the schedule) it starts.
    campaign_transition(campaign=campaign, to="in_progress")

    row.get_by_role("link", name="Delete", exact=True).click()
    expect_refused_on_campaign_page(
        page,
        campaign,
        "Campaign 'Spring sale' is In progress: suspend it or finish it first",
    )
    screens.shot(page, f"refusals-{who}-delete")
    assert Campaign.objects.filter(pk=campaign.pk).exists()

    # A Suspend link for a campaign that is not in progress asks nothing.
    campaign_transition(campaign=campaign, to="suspended")
    page.goto(f"/admin/campaigns/campaign/{campaign.pk}/suspend/")
    expect_refused_on_campaign_page(
        page, campaign, "only a campaign in progress can be suspended"
    )
    expect(page.get_by_role("button", name="Yes, suspend")).to_have_count(0)
    screens.shot(page, f"refusals-{who}-suspend")


@pytest.mark.django_db(transaction=True)
def test_saving_a_form_whose_campaign_started_says_so(
    page: Page, screens: Screens, make_campaign: Any
) -> None:
    user = make_operator_role("olga")
    campaign = make_campaign(started=True, name="Spring sale")
    sign_in(page, screens, user.username, "refusals-form-login")
    page.goto(f"/admin/campaigns/campaign/{campaign.pk}/change/")
    page.fill("#id_name", "Spring sale, renamed")
    campaign_transition(campaign=campaign, to="in_progress")

    page.locator("input[name=_save]").click()

    expect_refused_on_campaign_page(
        page, campaign, "Not saved: Campaign 'Spring sale' is In progress"
    )
    screens.shot(page, "refusals-form-save")
    assert Campaign.objects.get(pk=campaign.pk).name == "Spring sale"
