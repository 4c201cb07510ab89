"""Refusals by a campaign's status, said as such.

The campaign admin denies Django's change and delete permissions for a campaign
whose status forbids them (it is then shown read-only, without a Delete link). A
form or link from a stale page or a second tab would then meet Django's bare
PermissionDenied, read as a matter of role; here the operator whose role allows the
action is told instead what the campaign's status is and what to do first, and is
taken back to the campaign's page.
"""

from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from ..models import Campaign
from ..refusals import campaign_delete_refusal, campaign_modify_refusal

Refusal = Callable[..., str]


def refused_back(
    model_admin: admin.ModelAdmin,
    request: HttpRequest,
    campaign: Campaign,
    refusal: Refusal,
    prefix: str = "",
) -> HttpResponse | None:
    """If ``refusal`` gives a reason for ``campaign``: the reason as an error, and
    the way back to the campaign's page; otherwise None."""
    reason = refusal(campaign=campaign)
    if not reason:
        return None
    model_admin.message_user(request, f"{prefix}{reason}", messages.ERROR)
    return HttpResponseRedirect(
        reverse("admin:campaigns_campaign_change", args=[campaign.pk])
    )


class StatusGuardsMixin(admin.ModelAdmin):
    def _status_refused(
        self,
        request: HttpRequest,
        object_id: str,
        permission: str,
        refusal: Refusal,
        prefix: str = "",
    ) -> HttpResponse | None:
        # The role first: one who may not do this at all is told so by the 403 page.
        if not request.user.has_perm(f"campaigns.{permission}_campaign"):
            return None
        campaign = self.get_object(request, unquote(object_id))
        if campaign is None:
            return None
        return refused_back(self, request, campaign, refusal, prefix)

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        # Looking stays allowed: the page shows the campaign read-only.
        if request.method == "POST":
            refused = self._status_refused(
                request, object_id, "change", campaign_modify_refusal, "Not saved: "
            )
            if refused is not None:
                return refused
        return super().change_view(request, object_id, form_url, extra_context)

    def delete_view(
        self,
        request: HttpRequest,
        object_id: str,
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        refused = self._status_refused(
            request, object_id, "delete", campaign_delete_refusal, "Not deleted: "
        )
        return refused or super().delete_view(request, object_id, extra_context)
