"""A campaign's status refuses an action with its own reason, not the user's role's:
a stale page or a second tab is told what the campaign is and what to do first."""

import datetime as dt
import sys
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from campaigns.admin.forms import CampaignForm
from campaigns.lifecycle import (
    CampaignRefused,
    campaign_delete,
    campaign_end,
    campaign_resume,
    campaign_suspend,
    campaign_transition,
    campaign_update,
)
from campaigns.models import Campaign
from campaigns.refusals import (
    campaign_delete_refusal,
    campaign_end_refusal,
    campaign_modify_refusal,
    campaign_resume_refusal,
    campaign_suspend_refusal,
)
from campaigns.runs import campaign_tick
from campaigns.targeting import campaign_conditions_set

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


# The status refusals: campaigns.refusals writes their texts, the guards raise them.
modify, delete, suspend, resume, end = REFUSALS = (
    campaign_modify_refusal,
    campaign_delete_refusal,
    campaign_suspend_refusal,
    campaign_resume_refusal,
    campaign_end_refusal,
)


@pytest.fixture
def marked(monkeypatch: pytest.MonkeyPatch) -> None:
    """The refusal functions, wherever a campaigns module holds them, give their
    text between « and »: a guard that writes a text of its own raises it unmarked,
    one that forgets to pass ``fresh`` on raises nothing for a stale copy."""
    for original in REFUSALS:

        def marking(*, _original: Callable[..., str] = original, **kw: Any) -> str:
            text = _original(**kw)
            return f"«{text}»" if text else ""

        for name, module in list(sys.modules.items()):
            held = getattr(module, original.__name__, None)
            if name.partition(".")[0] == "campaigns" and held is original:
                monkeypatch.setattr(module, original.__name__, marking)


def refused(guard: Callable[[], Any]) -> str:
    with pytest.raises(CampaignRefused) as info:
        guard()
    return str(info.value)


@pytest.mark.django_db
def test_each_guard_refuses_with_the_text_its_refusal_function_returns(
    make_campaign: Any, marked: None
) -> None:
    later = timezone.now() + dt.timedelta(days=1)
    pending = make_campaign(name="Later")
    now = running(make_campaign, name="Now")
    over = running(make_campaign, name="Over")
    campaign_end(campaign=over)
    bulk = running(make_campaign, name="Promo", schedule="once")
    stale = Campaign.objects.get(pk=bulk.pk)
    stale._has_runs = False  # type: ignore[attr-defined]  # as a list read it
    campaign_tick(campaign_id=bulk.pk)  # sent meanwhile
    fresh = {"fresh": True}  # the guards decide under the campaign's lock

    cases: list[tuple[Callable[[], Any], Callable[..., str], Campaign, Any]] = [
        (lambda: campaign_update(campaign=now, name="x"), modify, now, {}),
        (lambda: campaign_update(campaign=over, name="x"), modify, over, {}),
        (lambda: campaign_delete(campaign=now), delete, now, {}),
        (lambda: campaign_suspend(campaign=pending), suspend, pending, fresh),
        (lambda: campaign_suspend(campaign=over), suspend, over, fresh),
        (lambda: campaign_suspend(campaign=stale), suspend, bulk, fresh),
        (
            lambda: campaign_resume(campaign=pending, start_at=later),
            resume,
            pending,
            {},
        ),
        (lambda: campaign_resume(campaign=now, start_at=later), resume, now, {}),
        (lambda: campaign_end(campaign=over), end, over, fresh),
        (lambda: campaign_end(campaign=stale), end, bulk, fresh),
    ]
    for guard, refusal, campaign, kwargs in cases:
        said = refusal(campaign=Campaign.objects.get(pk=campaign.pk), **kwargs)
        assert said, (refusal.__name__, campaign.name)
        assert refused(guard) == f"«{said}»", (refusal.__name__, campaign.name)
    # What the list read would have allowed; the guards read the runs again.
    assert campaign_suspend_refusal(campaign=stale) == ""
    # The clock still ends a sent bulk message at its end time.
    assert campaign_end_refusal(campaign=bulk, fresh=True, on_demand=False) == ""

    # The modify checks raising ValidationError: conditions, the admin's form.
    for campaign in (now, over):
        said = campaign_modify_refusal(campaign=Campaign.objects.get(pk=campaign.pk))
        with pytest.raises(ValidationError) as info:
            campaign_conditions_set(campaign=campaign, rules=[])
        assert info.value.messages == [f"«{said}»"]
        form = CampaignForm(data={}, instance=Campaign.objects.get(pk=campaign.pk))
        assert not form.is_valid()
        assert form.non_field_errors() == [f"«{said}»"]
    statuses = dict(Campaign.objects.values_list("name", "status"))
    assert statuses == {
        "Later": "pending",
        "Now": "in_progress",
        "Over": "ended",
        "Promo": "in_progress",
    }
