"""The Bulk messages list and its editor: the composer for a new message and for one
still scheduled, its preview as a recipient sees it, and, once sent, its report.
Underneath each is a campaign of schedule "once" (campaigns.bulk); nothing here
shows that."""

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from audiences.targeting import Condition
from base.lazy import LazyPartsMixin
from config.badges import badge

from ..bulk import (
    bulk_locked_reason,
    bulk_message_create,
    bulk_message_preview,
    bulk_message_update,
    bulk_when,
    targets_text,
)
from ..bulk_selectors import (
    BulkCounts,
    BulkStatus,
    bulk_all_sent,
    bulk_as_soon_as_possible,
    bulk_batch_ids,
    bulk_counts,
    bulk_message_of,
    bulk_messages_annotated,
    bulk_status,
    channel_names,
)
from ..lifecycle import CampaignRefused, campaign_delete
from ..models import BulkMessage as BulkMessageRecord
from ..models import Campaign
from ..selectors import campaigns_delete_totals
from .forms import BulkMessageForm, ConditionFormSet, conditions_of
from .monitor import monitor_html
from .views import refusal_reason

COLOURS = {
    BulkStatus.SCHEDULED: "#1e88e5",
    BulkStatus.SENDING: "#2e7d32",
    BulkStatus.SENT: "#616161",
    BulkStatus.SUSPENDED: "#f9a825",
    BulkStatus.CANCELLED: "#8d6e63",
}


def _initial(campaign: Campaign) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """The composer's fields and conditions filled in as the message was saved."""
    message = bulk_message_of(campaign)
    send_at = timezone.localtime(message.send_at) if message.send_at else None
    return (
        {
            "name": message.name,
            "group": message.group.pk,
            "also_groups": [g.pk for g in message.also_groups],
            "excluded_groups": [g.pk for g in message.excluded_groups],
            "match": message.match,
            "channel": message.channel.pk,
            "body": message.body,
            "media_url": message.media_url,
            "sender_name": message.sender_name,
            "reply_to": message.reply_to,
            "language": message.language,
            "reply_team": message.reply_team.pk if message.reply_team else None,
            "reply_user": message.reply_user.pk if message.reply_user else None,
            "send_at": send_at,
            "in_contact_zone": message.in_contact_zone,
        },
        [{"field": c.field, "op": c.op, "value": c.value} for c in message.rules],
    )


@admin.register(BulkMessageRecord)
class BulkMessageAdmin(LazyPartsMixin, admin.ModelAdmin):
    list_display = [
        "name",
        "status_badge",
        "channel",
        "audience",
        "send_time",
        "recipients",
        "sent",
        "failed",
    ]
    list_select_related = ["group", "flow_version", "reply_team", "reply_user"]
    search_fields = ["name", "group__name"]
    ordering = ["-start_at"]
    actions = None

    # Its rights are those of campaigns: a bulk message is one, underneath.
    def _may(self, request: HttpRequest, action: str) -> bool:
        return request.user.has_perm(f"campaigns.{action}_campaign")

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._may(request, "view") or self._may(request, "change")

    def has_add_permission(self, request: HttpRequest) -> bool:
        # It publishes a flow of its own: it takes those rights too.
        return self._may(request, "add") and request.user.has_perms(
            ["flows.add_flow", "flows.publish_flow"]
        )

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._may(request, "change") and request.user.has_perms(
            ["flows.add_flow", "flows.publish_flow"]
        )

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and not obj.is_deletable:
            return False  # on its way: cancel it first
        return self._may(request, "delete")

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> Any:
        # Its messages and journeys in numbers, not one line each.
        messages = list(objs)
        totals = campaigns_delete_totals(campaigns=messages)
        deleted = [format_html("Bulk message: {}", m.name) for m in messages]
        counts = {
            "bulk messages": len(messages),
            "messages": totals.messages,
            "contacts' journeys": totals.journeys,
        }
        return deleted, {k: v for k, v in counts.items() if v}, set(), []

    def delete_model(self, request: HttpRequest, obj: Campaign) -> None:
        campaign_delete(campaign=obj, actor=request.user)  # type: ignore[arg-type]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        # Its audience's parts and its people, read for the page, not a row at once.
        return bulk_messages_annotated(super().get_queryset(request)).prefetch_related(
            "also_groups", "excluded_groups", "rules"
        )

    def get_changelist_instance(self, request: HttpRequest) -> Any:
        changelist = super().get_changelist_instance(request)
        rows = list(changelist.result_list)
        # The page's counts and channels, in a few queries for all its rows.
        self._counts = bulk_counts(rows)
        self._channels = channel_names(rows)
        return changelist

    def _counted(self, campaign: Campaign) -> BulkCounts:
        counts = getattr(self, "_counts", {})
        return counts.get(campaign.pk) or bulk_counts([campaign])[campaign.pk]

    @admin.display(description="status")
    def status_badge(self, campaign: Campaign) -> str:
        status = bulk_status(campaign, self._counted(campaign))
        return badge(status.label, COLOURS[status])

    @admin.display(description="channel")
    def channel(self, campaign: Campaign) -> str:
        names = getattr(self, "_channels", {})
        return names.get(campaign.pk) or channel_names([campaign]).get(campaign.pk, "—")

    @admin.display(description="group / audience")
    def audience(self, campaign: Campaign) -> str:
        # From the page's prefetched rows; bulk_message_of would read its channel.
        return targets_text(
            [campaign.group, *campaign.also_groups.all()],
            list(campaign.excluded_groups.all()),
            [Condition(r.field, r.op, r.value) for r in campaign.rules.all()],
            campaign.match,
        )

    @admin.display(description="send time", ordering="start_at")
    def send_time(self, campaign: Campaign) -> str:
        if campaign.send_at_local is not None:
            at = timezone.localtime(campaign.send_at_local)
            return f"{at:%Y-%m-%d %H:%M} in each contact's zone"
        if bulk_as_soon_as_possible(campaign):
            return "as soon as possible"
        return f"{timezone.localtime(campaign.start_at):%Y-%m-%d %H:%M}"

    @admin.display(description="recipients")
    def recipients(self, campaign: Campaign) -> str:
        counted = self._counted(campaign)
        return "—" if counted.recipients is None else f"{counted.recipients:,}"

    @admin.display(description="sent")
    def sent(self, campaign: Campaign) -> str:
        return f"{self._counted(campaign).sent:,}"

    @admin.display(description="failed")
    def failed(self, campaign: Campaign) -> str:
        return f"{self._counted(campaign).failed:,}"

    def add_view(
        self,
        request: HttpRequest,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied
        return self._compose(request, None)

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        campaign = get_object_or_404(self.get_queryset(request), pk=object_id)
        if not self.has_view_permission(request, campaign):
            raise PermissionDenied
        return self._compose(request, campaign)

    def _compose(self, request: HttpRequest, campaign: Campaign | None) -> HttpResponse:
        locked = bulk_locked_reason(campaign) if campaign is not None else None
        posted = request.method == "POST"
        if posted and campaign is not None:
            if not self.has_change_permission(request, campaign):
                raise PermissionDenied
            if locked is not None:
                # A page opened before it was sent: nothing is saved.
                self.message_user(request, f"Not saved: {locked}", messages.ERROR)
                return HttpResponseRedirect(request.path)
        initial, rules = _initial(campaign) if campaign is not None else ({}, [])
        data = request.POST if posted else None
        form = BulkMessageForm(data, initial=initial)
        conditions = ConditionFormSet(data, prefix="conditions", initial=rules)
        preview = None
        if data is not None and all([form.is_valid(), conditions.is_valid()]):
            message = form.bulk_message(conditions_of(conditions))
            if "_send" in request.POST:
                saved = self._save(request, form, message, campaign)
                if saved is not None:
                    return saved
            preview = bulk_message_preview(message=message)
        elif campaign is not None and not posted:
            preview = bulk_message_preview(
                message=bulk_message_of(campaign), count=False
            )
            preview.recipients = self.lazy_slot(
                campaign, "audience", "Counting its recipients…"
            )
        read_only = locked is not None or (
            campaign is not None and not self.has_change_permission(request, campaign)
        )
        if read_only:
            for field in form.fields.values():
                field.disabled = True
        status = report = None
        if campaign is not None:
            status = bulk_status(campaign, all_sent=bulk_all_sent(campaign))
            if status != BulkStatus.SCHEDULED:
                report = self._report(campaign)
        return TemplateResponse(
            request,
            "admin/campaigns/campaign/bulk.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "title": campaign.name if campaign else "Send a bulk message",
                "form": form,
                "conditions": conditions,
                "preview": preview,
                "locked": locked,
                "read_only": read_only,
                "status": status.label if status else "",
                "report": report,
                "cancel_url": self._cancel_url(request, campaign, status),
                "delete_url": reverse(
                    "admin:campaigns_bulkmessage_delete", args=[campaign.pk]
                )
                if campaign is not None
                and self.has_delete_permission(request, campaign)
                else "",
            },
        )

    def _save(
        self,
        request: HttpRequest,
        form: BulkMessageForm,
        message: Any,
        campaign: Campaign | None,
    ) -> HttpResponse | None:
        actor = request.user
        try:
            if campaign is None:
                saved = bulk_message_create(message=message, actor=actor)  # type: ignore[arg-type]
            else:
                saved = bulk_message_update(
                    campaign=campaign,
                    message=message,
                    actor=actor,  # type: ignore[arg-type]
                )
        except (CampaignRefused, ValidationError) as exc:
            form.add_error(None, refusal_reason(exc))
            return None
        start = timezone.localtime(saved.start_at)
        when = (
            bulk_when(message)
            if message.in_contact_zone
            else f"{start:%Y-%m-%d %H:%M}."
        )
        self.message_user(
            request,
            f"Bulk message {saved.name!r} goes to {message.targets} at {when}",
        )
        return HttpResponseRedirect(
            reverse("admin:campaigns_bulkmessage_change", args=[saved.pk])
        )

    def _report(self, campaign: Campaign) -> str:
        url = reverse("admin:messaging_message_changelist")
        links = format_html_join(
            " · ",
            '<p><a href="{}?batch__id__exact={}">Its messages</a></p>',
            ((url, batch_id) for batch_id in bulk_batch_ids(campaign)),
        )
        monitor = self.lazy_slot(
            campaign, "monitor", "Counting its messages…", block=True
        )
        return format_html("{}{}", links, monitor)

    lazy_parts = {
        "audience": lambda admin, campaign: (
            bulk_message_preview(message=bulk_message_of(campaign)).recipients
        ),
        "monitor": lambda admin, campaign: monitor_html(campaign),
    }

    def _cancel_url(
        self, request: HttpRequest, campaign: Campaign | None, status: Any
    ) -> str:
        if (
            campaign is None
            or status != BulkStatus.SCHEDULED
            or not request.user.has_perm("campaigns.end_campaign")
        ):
            return ""
        return reverse("admin:campaigns_end", args=[campaign.pk])
