"""The campaign pages beyond Django's own, and the buttons leading to them: suspend,
finish or resume one campaign; the way to the bulk message composer (admin.bulk).
Each page asks, calls one function of campaigns.lifecycle, and reports."""

from typing import Any
from urllib.parse import urlencode

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone

from config.object_actions import ObjectActionsMixin

from ..lifecycle import CampaignRefused, campaign_end, campaign_resume, campaign_suspend
from ..models import BulkMessage, Campaign, Schedule
from ..refusals import (
    campaign_end_refusal,
    campaign_resume_refusal,
    campaign_suspend_refusal,
)
from ..selectors import campaign_finish_summary
from .forms import ResumeForm
from .guards import refused_back


def confirm_page(
    model_admin: admin.ModelAdmin,
    request: HttpRequest,
    campaigns: list[Campaign],
    **context: Any,
) -> TemplateResponse:
    """The page asking to confirm an action on ``campaigns``; ``item_<pk>`` entries of
    ``context`` go with that campaign's line (a ``detail``, a ``refusal``)."""
    return TemplateResponse(
        request,
        "admin/campaigns/campaign/confirm.html",
        {
            **model_admin.admin_site.each_context(request),
            "opts": model_admin.opts,
            "items": [
                {"campaign": c, **context.pop(f"item_{c.pk}", {})} for c in campaigns
            ],
            **context,
        },
    )


def refusal_reason(exc: Exception) -> str:
    """The operator's text of a refusal: a ValidationError's messages, or the text of
    a CampaignRefused."""
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    return str(exc)


def _page_of(campaign: Campaign) -> str:
    """The campaign's page, or the bulk message's for one."""
    if campaign.schedule == Schedule.ONCE:
        return reverse("admin:campaigns_bulkmessage_change", args=[campaign.pk])
    return reverse("admin:campaigns_campaign_change", args=[campaign.pk])


class CampaignViewsMixin(ObjectActionsMixin):
    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view
        return [
            path(
                "<int:pk>/suspend/", view(self.suspend_view), name="campaigns_suspend"
            ),
            path("<int:pk>/end/", view(self.end_view), name="campaigns_end"),
            path("<int:pk>/resume/", view(self.resume_view), name="campaigns_resume"),
            path("bulk/", view(self.bulk_view), name="campaigns_bulk"),
            *super().get_urls(),
        ]

    def has_suspend_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("campaigns.suspend_campaign")

    def has_end_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("campaigns.end_campaign")

    def has_resume_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("campaigns.resume_campaign")

    def object_actions(
        self, request: HttpRequest, campaign: Campaign
    ) -> list[dict[str, Any]]:
        actions: list[dict[str, Any]] = []
        version = campaign.flow_version
        if version is not None:
            # The version the campaign sends, previewed with its group.
            query = urlencode({"version": version.number, "group": campaign.group_id})
            actions.append(
                {
                    "url": reverse("admin:flows_preview", args=[version.flow_id])
                    + f"?{query}",
                    "label": "Preview flow",
                    "method": "get",
                }
            )
        status = campaign.status
        sent_bulk = campaign.is_sent_bulk()
        if (
            status == Campaign.Status.IN_PROGRESS
            and not sent_bulk
            and self.has_suspend_permission(request)
        ):
            actions.append(self._link("campaigns_suspend", campaign, "Suspend"))
        if status == Campaign.Status.SUSPENDED and self.has_resume_permission(request):
            actions.append(self._link("campaigns_resume", campaign, "Resume"))
        if (
            status != Campaign.Status.ENDED
            and not sent_bulk
            and self.has_end_permission(request)
        ):
            actions.append(self._link("campaigns_end", campaign, "Finish"))
        return actions

    @staticmethod
    def _link(name: str, campaign: Campaign, label: str) -> dict[str, Any]:
        url = reverse(f"admin:{name}", args=[campaign.pk])
        return {"url": url, "label": label, "method": "get"}

    def suspend_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        if not self.has_suspend_permission(request):
            raise PermissionDenied
        campaign = get_object_or_404(Campaign, pk=pk)
        # No confirmation asked for what the campaign's status refuses; on a
        # POST, campaigns.lifecycle decides again under the campaign's lock.
        refused = refused_back(self, request, campaign, campaign_suspend_refusal)
        if refused is not None:
            return refused
        if request.method == "POST":
            return self._do(request, campaign, campaign_suspend, "suspended")
        return confirm_page(
            self,
            request,
            [campaign],
            title=f"Suspend {campaign.name}?",
            question="No further run will start until you resume it with a new start "
            "time. Journeys already on the flow wait where they are.",
            confirm_label="Yes, suspend",
            back_url=reverse("admin:campaigns_campaign_change", args=[pk]),
        )

    def end_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        if not self.has_end_permission(request):
            raise PermissionDenied
        campaign = get_object_or_404(Campaign, pk=pk)
        # No confirmation asked for what the campaign's status refuses; on a
        # POST, campaigns.lifecycle decides again under the campaign's lock.
        refused = refused_back(self, request, campaign, campaign_end_refusal)
        if refused is not None:
            return refused
        bulk = campaign.schedule == Schedule.ONCE  # a bulk message: its own words
        if request.method == "POST":
            return self._do(
                request, campaign, campaign_end, "cancelled" if bulk else "finished"
            )
        return confirm_page(
            self,
            request,
            [campaign],
            title=f"Cancel the send of {campaign.name}?"
            if bulk
            else f"Finish {campaign.name}?",
            question="Cancelling stops this bulk message: nothing more of it is sent:"
            if bulk
            else "Finishing ends the campaign for good:",
            warning="This cannot be undone.",
            danger=True,
            confirm_label="Yes, cancel the send" if bulk else "Yes, finish it",
            back_url=_page_of(campaign),
            **{
                f"item_{campaign.pk}": {
                    "detail": campaign_finish_summary(campaign=campaign)
                }
            },
        )

    def resume_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        if not self.has_resume_permission(request):
            raise PermissionDenied
        campaign = get_object_or_404(Campaign, pk=pk)
        refused = refused_back(self, request, campaign, campaign_resume_refusal)
        if refused is not None:
            return refused
        form = ResumeForm(request.POST if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid():
            try:
                campaign_resume(
                    campaign=campaign,
                    start_at=form.cleaned_data["start_at"],
                    actor=request.user,  # type: ignore[arg-type]
                )
            except CampaignRefused as exc:
                form.add_error("start_at", str(exc))
            else:
                campaign.refresh_from_db()
                self.message_user(
                    request,
                    f"Campaign {campaign.name!r} resumes at "
                    f"{timezone.localtime(campaign.start_at):%Y-%m-%d %H:%M}.",
                )
                return HttpResponseRedirect(
                    reverse("admin:campaigns_campaign_change", args=[pk])
                )
        return confirm_page(
            self,
            request,
            [campaign],
            title=f"Resume {campaign.name}",
            question="A suspended campaign resumes at a new start time, later than "
            "now; it is pending until then.",
            form=form,
            confirm_label="Resume",
            back_url=reverse("admin:campaigns_campaign_change", args=[pk]),
        )

    def bulk_view(self, request: HttpRequest) -> HttpResponse:
        # Composed on the Bulk messages page, where it is listed once saved; posts
        # to this older address are composed there too.
        bulk_admin = self.admin_site.get_model_admin(BulkMessage)
        if not bulk_admin.has_add_permission(request):
            raise PermissionDenied
        if request.method == "POST":
            return bulk_admin.add_view(request)
        return HttpResponseRedirect(reverse("admin:campaigns_bulkmessage_add"))

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        # A bulk message is shown, edited and reported on its own page.
        if Campaign.objects.filter(pk=object_id, schedule=Schedule.ONCE).exists():
            return HttpResponseRedirect(
                reverse("admin:campaigns_bulkmessage_change", args=[object_id])
            )
        return super().change_view(request, object_id, form_url, extra_context)

    def _do(
        self, request: HttpRequest, campaign: Campaign, action: Any, done: str
    ) -> HttpResponse:
        try:
            action(campaign=campaign, actor=request.user)
        except CampaignRefused as exc:
            self.message_user(request, str(exc), messages.ERROR)
        else:
            kind = "Bulk message" if campaign.schedule == Schedule.ONCE else "Campaign"
            self.message_user(request, f"{kind} {campaign.name!r} {done}.")
        return HttpResponseRedirect(_page_of(campaign))
