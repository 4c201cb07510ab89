from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.actions import delete_selected
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html

from config.object_actions import ObjectActionsMixin
from flows.models import Flow
from messaging.models import Message

from .lifecycle import (
    EDITABLE_FIELDS,
    CampaignRefused,
    campaign_create,
    campaign_delete,
    campaign_end,
    campaign_suspend,
    campaign_update,
)
from .models import Campaign, CampaignEvent, CampaignRun


class CampaignForm(forms.ModelForm):
    class Meta:
        model = Campaign
        fields = list(EDITABLE_FIELDS)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "flow" in self.fields:
            field = self.fields["flow"]
            assert isinstance(field, forms.ModelChoiceField)
            field.queryset = Flow.objects.filter(
                status=Flow.Status.PUBLISHED, trigger=Flow.Trigger.MANUAL
            )
            field.help_text = (
                "Only published flows whose trigger type is Manual can be chosen."
            )

    def clean(self) -> dict[str, Any] | None:
        cleaned = super().clean()
        if self.instance.pk is not None:
            current = Campaign.objects.get(pk=self.instance.pk)
            if not current.is_editable:
                raise ValidationError(
                    f"This campaign is {current.get_status_display()}; only pending or "
                    "suspended campaigns can be modified."
                )
        return cleaned


class CampaignEventInline(admin.TabularInline):
    model = CampaignEvent
    extra = 0
    can_delete = False
    fields = readonly_fields = ("at", "from_status", "to_status", "actor", "note")
    verbose_name_plural = "history"

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class CampaignRunInline(admin.TabularInline):
    model = CampaignRun
    extra = 0
    can_delete = False
    fields = readonly_fields = (
        "scheduled_for",
        "recipients",
        "messages_created",
        "skipped",
        "messages",
    )
    show_change_link = True
    max_num = 0

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[CampaignRun]:
        return super().get_queryset(request).order_by("-scheduled_for")

    @admin.display(description="messages")
    def messages(self, run: CampaignRun) -> str:
        url = reverse("admin:messaging_message_changelist")
        return format_html('<a href="{}?run__id__exact={}">View</a>', url, run.pk)


@admin.register(Campaign)
class CampaignAdmin(ObjectActionsMixin):
    form = CampaignForm
    list_display = ["name", "flow", "group", "schedule", "status", "start_at", "end_at"]
    list_filter = ["status", "schedule", "flow", "group"]
    list_select_related = ["flow", "group"]
    search_fields = ["name", "flow__name", "group__name"]
    date_hierarchy = "start_at"
    readonly_fields = ["status", "flow_version", "created_at", "updated_at"]
    actions = ["suspend_selected", "end_selected", "delete_selected"]
    inlines = [CampaignRunInline, CampaignEventInline]

    def get_inlines(self, request: HttpRequest, obj: Campaign | None) -> list[Any]:
        return list(self.inlines) if obj is not None else []

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view
        return [
            path(
                "<int:pk>/suspend/", view(self.suspend_view), name="campaigns_suspend"
            ),
            path("<int:pk>/end/", view(self.end_view), name="campaigns_end"),
            *super().get_urls(),
        ]

    def object_actions(
        self, request: HttpRequest, campaign: Campaign
    ) -> list[dict[str, Any]]:
        actions: list[dict[str, Any]] = []
        version = campaign.flow_version
        if version is not None:
            # The version the campaign sends, previewed with its group (F3, F4).
            query = urlencode({"version": version.number, "group": campaign.group_id})
            actions.append(
                {
                    "url": reverse("admin:flows_preview", args=[version.flow_id])
                    + f"?{query}",
                    "label": "Preview flow",
                    "method": "get",
                }
            )
        in_progress = campaign.status == Campaign.Status.IN_PROGRESS
        if in_progress and self.has_suspend_permission(request):
            actions.append(
                {
                    "url": reverse("admin:campaigns_suspend", args=[campaign.pk]),
                    "label": "Suspend",
                    "confirm": "Suspend this campaign? No further runs will start "
                    "until you set a new start time.",
                }
            )
        ended = campaign.status == Campaign.Status.ENDED
        if not ended and self.has_end_permission(request):
            actions.append(
                {
                    "url": reverse("admin:campaigns_end", args=[campaign.pk]),
                    "label": "End campaign",
                    "confirm": "End this campaign for good? Unsent messages are "
                    "cancelled and it cannot be started again.",
                    "danger": True,
                }
            )
        return actions

    def suspend_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        if not self.has_suspend_permission(request):
            raise PermissionDenied
        return self._object_action(request, pk, campaign_suspend, "suspended")

    def end_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        if not self.has_end_permission(request):
            raise PermissionDenied
        return self._object_action(request, pk, campaign_end, "ended")

    def _object_action(
        self, request: HttpRequest, pk: int, action: Any, done: str
    ) -> HttpResponse:
        change_url = reverse("admin:campaigns_campaign_change", args=[pk])
        if request.method != "POST":
            return HttpResponseRedirect(change_url)
        campaign = get_object_or_404(Campaign, pk=pk)
        try:
            action(campaign=campaign, actor=request.user)
        except CampaignRefused as exc:
            self.message_user(request, str(exc), messages.ERROR)
        else:
            self.message_user(request, f"Campaign {campaign.name!r} {done}.")
        return HttpResponseRedirect(change_url)

    def get_fields(
        self, request: HttpRequest, obj: Campaign | None = None
    ) -> list[Any]:
        return [*EDITABLE_FIELDS, *(self.readonly_fields if obj is not None else ())]

    def has_change_permission(
        self, request: HttpRequest, obj: Campaign | None = None
    ) -> bool:
        if obj is not None and not obj.is_editable:
            # Shown read-only: seed 000 allows modifying pending/suspended only.
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(
        self, request: HttpRequest, obj: Campaign | None = None
    ) -> bool:
        if obj is not None and not obj.is_deletable:
            return False
        return super().has_delete_permission(request, obj)

    def save_model(
        self, request: HttpRequest, obj: Campaign, form: forms.ModelForm, change: bool
    ) -> None:
        values = {name: form.cleaned_data[name] for name in EDITABLE_FIELDS}
        try:
            if change:
                campaign_update(campaign=obj, actor=request.user, **values)  # type: ignore[arg-type]
            else:
                saved = campaign_create(actor=request.user, **values)  # type: ignore[arg-type]
                obj.pk = saved.pk
                obj.refresh_from_db()
        except (CampaignRefused, ValidationError) as exc:
            # A change between the form's checks and the save (the campaign started,
            # the start minute passed). The response_* and log_* hooks below read
            # this: the operator goes back to the form and nothing is logged as saved.
            request.campaign_refusal = _reason(exc)  # type: ignore[attr-defined]

    def _refusal(self, request: HttpRequest) -> HttpResponse | None:
        refusal = getattr(request, "campaign_refusal", None)
        if refusal is None:
            return None
        self.message_user(request, f"Not saved: {refusal}", messages.ERROR)
        return HttpResponseRedirect(request.path)

    def response_add(
        self, request: HttpRequest, obj: Campaign, post_url_continue: str | None = None
    ) -> HttpResponse:
        return self._refusal(request) or super().response_add(
            request, obj, post_url_continue
        )

    def response_change(self, request: HttpRequest, obj: Campaign) -> HttpResponse:
        return self._refusal(request) or super().response_change(request, obj)

    def log_addition(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        if getattr(request, "campaign_refusal", None) is None:
            return super().log_addition(request, obj, message)
        return None

    def log_change(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        if getattr(request, "campaign_refusal", None) is None:
            return super().log_change(request, obj, message)
        return None

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> Any:
        deleted, counts, _, protected = super().get_deleted_objects(objs, request)
        # Runs, messages and history go with their campaign: campaign_delete is the
        # guard, not the delete permissions of those records (nobody has them).
        return deleted, counts, set(), protected

    @admin.action(description="Delete selected campaigns", permissions=["delete"])
    def delete_selected(
        self, request: HttpRequest, queryset: QuerySet[Campaign]
    ) -> HttpResponse | None:
        """Django's delete confirmation, for the campaigns that may be deleted (C7);
        each one in progress is named with the reason it stays."""
        for campaign in queryset.filter(status=Campaign.Status.IN_PROGRESS):
            self.message_user(
                request,
                f"Campaign {campaign.name!r} is in progress and was left out; suspend "
                "or end it before deleting it.",
                messages.ERROR,
            )
        deletable = queryset.exclude(status=Campaign.Status.IN_PROGRESS)
        if not deletable.exists():
            return None
        return delete_selected(self, request, deletable)

    def delete_model(self, request: HttpRequest, obj: Campaign) -> None:
        campaign_delete(campaign=obj, actor=request.user)  # type: ignore[arg-type]

    def delete_queryset(
        self, request: HttpRequest, queryset: QuerySet[Campaign]
    ) -> None:
        for campaign in queryset:
            try:
                campaign_delete(campaign=campaign, actor=request.user)  # type: ignore[arg-type]
            except CampaignRefused as exc:
                self.message_user(request, str(exc), messages.ERROR)

    @admin.action(description="Suspend selected campaigns", permissions=["suspend"])
    def suspend_selected(
        self, request: HttpRequest, queryset: QuerySet[Campaign]
    ) -> None:
        self._apply(request, queryset, campaign_suspend, "suspended")

    @admin.action(
        description="End selected campaigns (cannot be undone)", permissions=["end"]
    )
    def end_selected(self, request: HttpRequest, queryset: QuerySet[Campaign]) -> None:
        self._apply(request, queryset, campaign_end, "ended")

    def has_suspend_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("campaigns.suspend_campaign")

    def has_end_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("campaigns.end_campaign")

    def _apply(
        self, request: HttpRequest, queryset: QuerySet[Campaign], action: Any, done: str
    ) -> None:
        succeeded = []
        for campaign in queryset:
            try:
                action(campaign=campaign, actor=request.user)
            except CampaignRefused as exc:
                self.message_user(request, str(exc), messages.ERROR)
            else:
                succeeded.append(campaign.name)
        if succeeded:
            self.message_user(request, f"{done.capitalize()}: {', '.join(succeeded)}.")


def _reason(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    return str(exc)


@admin.register(CampaignRun)
class CampaignRunAdmin(admin.ModelAdmin):
    list_display = [
        "campaign",
        "scheduled_for",
        "recipients",
        "queued",
        "sent",
        "failed",
        "skipped_count",
    ]
    list_filter = ["campaign"]
    list_select_related = ["campaign"]
    search_fields = ["campaign__name"]
    date_hierarchy = "scheduled_for"
    fields = readonly_fields = (
        "campaign",
        "scheduled_for",
        "flow_version",
        "status",
        "recipients",
        "messages_created",
        "skipped",
        "started_at",
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[CampaignRun]:
        def count(*statuses: str) -> Count:
            return Count("messages", filter=Q(messages__status__in=statuses))

        return (
            super()
            .get_queryset(request)
            .annotate(
                _queued=count(
                    Message.Status.QUEUED,
                    Message.Status.DEFERRED,
                    Message.Status.SENDING,
                ),
                _sent=count(Message.Status.SENT, Message.Status.DELIVERED),
                _failed=count(Message.Status.FAILED),
                _skipped=count(Message.Status.SKIPPED),
            )
        )

    @admin.display(description="waiting", ordering="_queued")
    def queued(self, run: CampaignRun) -> int:
        return getattr(run, "_queued", 0)

    @admin.display(description="sent", ordering="_sent")
    def sent(self, run: CampaignRun) -> int:
        return getattr(run, "_sent", 0)

    @admin.display(description="failed", ordering="_failed")
    def failed(self, run: CampaignRun) -> int:
        return getattr(run, "_failed", 0)

    @admin.display(description="skipped", ordering="_skipped")
    def skipped_count(self, run: CampaignRun) -> int:
        return getattr(run, "_skipped", 0)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
