"""The campaign list's actions: suspend, finish or delete the selected campaigns.
Each asks for confirmation, then calls campaigns.lifecycle for each campaign and
reports what was done and what was refused."""

from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.actions import delete_selected as django_delete_selected
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from ..lifecycle import CampaignRefused, campaign_end, campaign_suspend
from ..models import Campaign
from ..refusals import (
    campaign_delete_refusal,
    campaign_end_refusal,
    campaign_suspend_refusal,
)
from ..selectors import campaign_finish_summary
from .views import confirm_page


@admin.action(description="Suspend selected campaigns", permissions=["suspend"])
def suspend_selected(
    model_admin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Campaign]
) -> HttpResponse | None:
    campaigns = list(queryset)
    if request.POST.get("post") == "yes":
        _apply(model_admin, request, campaigns, campaign_suspend, "suspended")
        return None
    return confirm_page(
        model_admin,
        request,
        campaigns,
        title="Suspend the selected campaigns?",
        question="No further run will start for these until each is resumed with "
        "a new start time.",
        confirm_label="Yes, suspend them",
        selected=[c.pk for c in campaigns],
        action_name="suspend_selected",
        back_url=reverse("admin:campaigns_campaign_changelist"),
        **{
            f"item_{c.pk}": {"refusal": refusal}
            for c in campaigns
            if (refusal := campaign_suspend_refusal(campaign=c))
        },
    )


@admin.action(
    description="Finish selected campaigns (cannot be undone)", permissions=["end"]
)
def end_selected(
    model_admin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Campaign]
) -> HttpResponse | None:
    campaigns = list(queryset)
    if request.POST.get("post") == "yes":
        _apply(model_admin, request, campaigns, campaign_end, "finished")
        return None
    return confirm_page(
        model_admin,
        request,
        campaigns,
        title="Finish the selected campaigns?",
        question="Finishing ends each campaign for good:",
        warning="This cannot be undone.",
        danger=True,
        confirm_label="Yes, finish them",
        selected=[c.pk for c in campaigns],
        action_name="end_selected",
        back_url=reverse("admin:campaigns_campaign_changelist"),
        **{f"item_{c.pk}": _finish_item(c) for c in campaigns},
    )


def _finish_item(campaign: Campaign) -> dict[str, str]:
    """A campaign's line on the Finish confirmation: why it stays as it is, or what
    finishing it does."""
    refusal = campaign_end_refusal(campaign=campaign)
    if refusal:
        return {"refusal": refusal}
    return {"detail": campaign_finish_summary(campaign=campaign)}


@admin.action(description="Delete selected campaigns", permissions=["delete"])
def delete_selected(
    model_admin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Campaign]
) -> HttpResponse | None:
    """Django's delete confirmation, for the campaigns that may be deleted; each one
    in progress is named with the reason it stays."""
    for campaign in queryset.filter(status=Campaign.Status.IN_PROGRESS):
        model_admin.message_user(
            request,
            f"Left out: {campaign_delete_refusal(campaign=campaign)}",
            messages.ERROR,
        )
    deletable = queryset.exclude(status=Campaign.Status.IN_PROGRESS)
    if not deletable.exists():
        return None
    return django_delete_selected(model_admin, request, deletable)


def _apply(
    model_admin: admin.ModelAdmin,
    request: HttpRequest,
    campaigns: list[Campaign],
    action: Callable[..., Any],
    done: str,
) -> None:
    succeeded = []
    for campaign in campaigns:
        try:
            action(campaign=campaign, actor=request.user)
        except CampaignRefused as exc:
            model_admin.message_user(request, str(exc), messages.ERROR)
        else:
            succeeded.append(campaign.name)
    if succeeded:
        model_admin.message_user(
            request, f"{done.capitalize()}: {', '.join(succeeded)}."
        )
