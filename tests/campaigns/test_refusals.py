"""A campaign's status refuses an action with its own reason, not the user's role's:
a stale page or a second tab is told what the campaign is and what to do first."""

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from campaigns.lifecycle import campaign_end, campaign_transition
from campaigns.models import Campaign
from campaigns.refusals import (
    campaign_delete_refusal,
    campaign_end_refusal,
    campaign_modify_refusal,
    campaign_resume_refusal,
    campaign_suspend_refusal,
)

ROLE_REASONS = ("has no role", "Your role", "stay with administrators")


def texts(response: Any) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def running(make_campaign: Any, **fields: Any) -> Campaign:
    campaign = make_campaign(started=True, **fields)
    campaign_transition(campaign=campaign, to="in_progress")
    return campaign


@pytest.fixture(params=["superuser", "Operator"])
def acting(request: Any, client: Client, make_user: Any) -> Client:
    """A client signed in as one whose role allows every campaign action."""
    if request.param == "superuser":
        user = User.objects.create_superuser("root", password="x" * 12)
    else:
        user = make_user("Operator")
    client.force_login(user)
    return client


def assert_refused_for(response: Any, campaign: Campaign, reason: str) -> None:
    change = reverse("admin:campaigns_campaign_change", args=[campaign.pk])
    assert response.status_code == 302, response.content.decode()[:500]
    assert response["Location"] == change
    said = " ".join(texts(response))
    assert reason in said
    assert not any(role in said for role in ROLE_REASONS)


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["get", "post"])
def test_deleting_a_campaign_in_progress_says_it_is_in_progress(
    acting: Client, make_campaign: Any, method: str
) -> None:
    campaign = running(make_campaign)
    url = reverse("admin:campaigns_campaign_delete", args=[campaign.pk])

    response = getattr(acting, method)(url, {"post": "yes"})

    assert_refused_for(
        response,
        campaign,
        "Campaign 'Spring sale' is In progress: suspend it or finish it first",
    )
    assert Campaign.objects.filter(pk=campaign.pk).exists()


@pytest.mark.django_db
def test_saving_a_campaign_that_started_meanwhile_says_it_is_in_progress(
    acting: Client, make_campaign: Any
) -> None:
    campaign = running(make_campaign)
    url = reverse("admin:campaigns_campaign_change", args=[campaign.pk])

    response = acting.post(url, {"name": "Renamed from a stale page"})

    assert_refused_for(
        response, campaign, "Not saved: Campaign 'Spring sale' is In progress"
    )
    assert Campaign.objects.get(pk=campaign.pk).name == "Spring sale"
    # Looking at it stays allowed, read-only.
    assert acting.get(url).status_code == 200


@pytest.mark.django_db
def test_saving_an_ended_campaign_says_it_has_ended(
    acting: Client, make_campaign: Any
) -> None:
    campaign = running(make_campaign)
    campaign_end(campaign=campaign)
    url = reverse("admin:campaigns_campaign_change", args=[campaign.pk])

    response = acting.post(url, {"name": "Renamed"})

    assert_refused_for(response, campaign, "has ended")


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["get", "post"])
def test_an_action_its_status_does_not_allow_asks_for_no_confirmation(
    acting: Client, make_campaign: Any, method: str
) -> None:
    pending = make_campaign(name="Later")
    running_one = running(make_campaign, name="Now")
    ended = running(make_campaign, name="Over")
    campaign_end(campaign=ended)
    cases = [
        ("campaigns_suspend", pending, "only a campaign in progress can be"),
        ("campaigns_resume", running_one, "only a suspended campaign can be resumed"),
        ("campaigns_resume", pending, "only a suspended campaign can be resumed"),
        ("campaigns_end", ended, "has ended already"),
    ]
    for name, campaign, reason in cases:
        url = reverse(f"admin:{name}", args=[campaign.pk])

        response = getattr(acting, method)(url, {"post": "yes", "confirm": "yes"})

        assert_refused_for(response, campaign, reason)
    statuses = dict(Campaign.objects.values_list("name", "status"))
    assert statuses == {"Later": "pending", "Now": "in_progress", "Over": "ended"}


@pytest.mark.django_db
def test_an_allowed_action_still_asks_for_confirmation(
    acting: Client, make_campaign: Any
) -> None:
    campaign = running(make_campaign)

    page = acting.get(reverse("admin:campaigns_suspend", args=[campaign.pk]))

    assert page.status_code == 200
    assert "Yes, suspend" in page.content.decode()


@pytest.mark.django_db
def test_a_viewer_is_still_refused_for_their_role(
    client: Client, make_user: Any, make_campaign: Any
) -> None:
    campaign = running(make_campaign)
    client.force_login(make_user("Viewer"))

    response = client.get(
        reverse("admin:campaigns_campaign_delete", args=[campaign.pk])
    )

    assert response.status_code == 403
    assert "Viewers can look at everything" in response.content.decode()


@pytest.mark.django_db
def test_a_superuser_refused_is_never_told_about_roles(rf: Any) -> None:
    from django.core.exceptions import PermissionDenied

    from base.errors import permission_denied

    request = rf.get("/admin/")
    request.user = User.objects.create_superuser("root", password="x" * 12)

    page = permission_denied(request, PermissionDenied()).content.decode()

    assert "has no role" not in page
    assert "not allowed on this record as it is now" in page


@pytest.mark.django_db
def test_each_refusal_is_empty_when_the_status_allows_it(make_campaign: Any) -> None:
    pending = make_campaign()
    assert campaign_modify_refusal(campaign=pending) == ""
    assert campaign_delete_refusal(campaign=pending) == ""
    assert campaign_end_refusal(campaign=pending) == ""
    assert campaign_suspend_refusal(campaign=pending) != ""
    assert campaign_resume_refusal(campaign=pending) != ""
