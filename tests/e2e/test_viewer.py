"""A viewer may look at everything an operator works on, and change nothing: no
action buttons are drawn for them, and posting to an action's URL anyway is refused."""

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from campaigns.lifecycle import campaign_transition
from campaigns.models import Campaign, CampaignEvent
from campaigns.runs import campaign_tick
from flows.models import Flow, FlowVersion
from messaging.models import Message
from tests.e2e.conftest import Screens, sign_in

ACTIONS = ["Suspend", "Resume", "Finish", "Modify", "Delete"]


def csrf_token(page: Page) -> str:
    """The CSRF token of the page's own forms (the header's log-out form has one)."""
    token = page.locator("input[name=csrfmiddlewaretoken]").first.get_attribute("value")
    assert token
    return token


def refusal(html: str) -> str:
    """What kind of refusal a page is: Django's permission one, or a CSRF failure."""
    return "CSRF failure" if "CSRF verification failed" in html else "refused"


@pytest.mark.django_db(transaction=True)
def test_a_viewer_sees_the_campaign_without_actions_and_cannot_post_them(
    page: Page,
    screens: Screens,
    make_viewer: Any,
    make_campaign: Any,
    make_flow: Any,
) -> None:
    campaign = make_campaign(started=True, name="Spring sale")
    campaign_transition(campaign=campaign, to="in_progress")
    assert campaign_tick(campaign_id=campaign.pk) is not None
    draft = make_flow(publish=False, name="Autumn draft")
    viewer = make_viewer()
    before = {
        "events": CampaignEvent.objects.count(),
        "queued": Message.objects.filter(status="queued").count(),
        "versions": FlowVersion.objects.count(),
    }

    sign_in(page, screens, viewer.username, "viewer-login")
    screens.shot(page, "viewer-home")

    page.locator("#campaigns-campaign a").click()
    row = page.locator("#result_list tr", has_text="Spring sale")
    expect(row).to_contain_text("In progress")
    screens.shot(page, "viewer-campaign-list")
    for label in ACTIONS:
        expect(row.get_by_role("link", name=label, exact=True)).to_have_count(0)
    expect(page.get_by_role("link", name="Send a bulk message")).to_have_count(0)
    expect(page.get_by_role("link", name="Add campaign")).to_have_count(0)

    row.get_by_role("link", name="Spring sale").click()
    expect(page.locator(".field-status_badge .readonly")).to_have_text("In progress")
    expect(page.locator(".campaign-monitor .chips")).to_contain_text("Queued: 3")
    screens.shot(page, "viewer-campaign")
    tools = page.locator(".object-tools")
    expect(tools.get_by_role("link", name="Preview flow")).to_be_visible()
    for label in ACTIONS:
        expect(tools.get_by_text(label, exact=True)).to_have_count(0)
    expect(page.locator(".submit-row input[type=submit]")).to_have_count(0)

    page.goto(f"/admin/flows/flow/{draft.pk}/change/")
    expect(page.locator(".object-tools")).to_contain_text("Preview")
    screens.shot(page, "viewer-flow")
    expect(page.locator(".object-tools")).not_to_contain_text("Publish")
    expect(page.locator(".object-tools")).not_to_contain_text("Archive")

    page.goto("/admin/audiences/contact/")
    expect(page.locator("#result_list")).to_contain_text("+525500998877")
    screens.shot(page, "viewer-contacts")
    expect(page.locator(".object-tools .import_link")).to_have_count(0)

    # A confirmation page's POST, sent from the browser as a crafted form would be.
    page.goto(f"/admin/campaigns/campaign/{campaign.pk}/change/")
    token = csrf_token(page)
    with page.expect_navigation() as navigation:
        page.evaluate(
            """([url, token]) => {
                const form = document.createElement("form");
                form.method = "post";
                form.action = url;
                for (const [name, value] of [["csrfmiddlewaretoken", token],
                                             ["post", "yes"]]) {
                    const input = document.createElement("input");
                    input.type = "hidden";
                    input.name = name;
                    input.value = value;
                    form.appendChild(input);
                }
                document.body.appendChild(form);
                form.submit();
            }""",
            [f"/admin/campaigns/campaign/{campaign.pk}/end/", token],
        )
    screens.shot(page, "viewer-finish-refused")
    answer = navigation.value
    assert answer is not None
    assert (answer.status, refusal(page.content())) == (403, "refused")

    # The other actions' URLs, posted with the viewer's session and a valid token.
    posts = {
        "suspend": f"/admin/campaigns/campaign/{campaign.pk}/suspend/",
        "resume": f"/admin/campaigns/campaign/{campaign.pk}/resume/",
        "finish": f"/admin/campaigns/campaign/{campaign.pk}/end/",
        "publish": f"/admin/flows/flow/{draft.pk}/publish/",
        "archive": f"/admin/flows/flow/{draft.pk}/archive/",
    }
    answers = {
        name: page.request.post(
            url,
            form={"csrfmiddlewaretoken": token, "post": "yes"},
            headers={"X-CSRFToken": token},
            max_redirects=0,
        )
        for name, url in posts.items()
    }
    # Refused by the permission check, not by the CSRF check.
    refused = {name: (a.status, refusal(a.text())) for name, a in answers.items()}
    assert refused == dict.fromkeys(posts, (403, "refused"))

    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.IN_PROGRESS
    assert Flow.objects.get(pk=draft.pk).status == Flow.Status.DRAFT
    assert before == {
        "events": CampaignEvent.objects.count(),
        "queued": Message.objects.filter(status="queued").count(),
        "versions": FlowVersion.objects.count(),
    }
