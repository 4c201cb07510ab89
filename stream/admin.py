"""The event stream in the console: endpoints (operators add and edit them; a
viewer looks), and the deliveries with each attempt (read-only)."""

import json
from typing import Any
from urllib.parse import urlsplit

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.timezone import localtime

from base.auditing import AuditedAdmin
from base.outbound import url_refusal
from config.object_actions import ObjectActionsMixin
from config.paginators import CappedPaginator
from config.records_admin import RecordAdmin

from .emitting import endpoint_test_send
from .models import SUBSCRIBABLE, Attempt, Delivery, Endpoint, Event
from .secrets import (
    endpoint_secret_ensure,
    endpoint_secret_rotate,
    endpoint_secret_shown,
)
from .selectors import with_counts

NEW_SECRET = "_flowcast_new_endpoint_secret"


class EndpointForm(forms.ModelForm):
    url = forms.URLField(
        label="URL",
        max_length=500,
        assume_scheme="https",
        help_text=Endpoint._meta.get_field("url").help_text,
        widget=forms.URLInput(attrs={"class": "vURLField", "size": 80}),
    )
    event_types = forms.MultipleChoiceField(
        choices=SUBSCRIBABLE,
        widget=forms.CheckboxSelectMultiple,
        help_text="What is posted to it. Each event's data is described in the "
        "README (Event stream).",
    )

    class Meta:
        model = Endpoint
        fields = ["url", "description", "event_types", "active"]

    def clean_url(self) -> str:
        url = str(self.cleaned_data.get("url") or "").strip()
        if urlsplit(url).password or urlsplit(url).username:
            raise forms.ValidationError(
                "The URL carries a user name or password: it is shown here and kept "
                "in the audit trail. Give the receiver's address alone; posts are "
                "signed with the endpoint's signing secret for it to check."
            )
        why = url_refusal(url) if url else None
        if why:
            raise forms.ValidationError(f"The URL {url} is refused: {why}")
        return url


@admin.register(Endpoint)
class EndpointAdmin(AuditedAdmin, ObjectActionsMixin):
    form = EndpointForm
    list_display = [
        "url",
        "description",
        "active",
        "subscribed",
        "waiting",
        "given_up",
        "state",
    ]
    list_filter = ["active"]
    search_fields = ["url", "description"]
    readonly_fields = ["secret_shown", "state", "deliveries_shown"]
    actions = ["send_test_event"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Endpoint]:
        return with_counts(super().get_queryset(request))

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = ["url", "description", "event_types", "active"]
        if obj is None:
            return [(None, {"fields": fields})]
        return [
            (None, {"fields": fields}),
            (
                "Delivery",
                {"fields": ["secret_shown", "state", "deliveries_shown"]},
            ),
        ]

    @admin.display(description="events")
    def subscribed(self, endpoint: Endpoint) -> str:
        labels = dict(SUBSCRIBABLE)
        return ", ".join(labels.get(t, t) for t in endpoint.event_types or []) or "—"

    @admin.display(description="pending", ordering="pending")
    def waiting(self, endpoint: Endpoint) -> str:
        return self._deliveries_link(
            endpoint, Delivery.Status.PENDING, getattr(endpoint, "pending", 0)
        )

    @admin.display(description="given up", ordering="failed")
    def given_up(self, endpoint: Endpoint) -> str:
        return self._deliveries_link(
            endpoint, Delivery.Status.FAILED, getattr(endpoint, "failed", 0)
        )

    def _deliveries_link(self, endpoint: Endpoint, status: str, count: int) -> str:
        url = reverse("admin:stream_delivery_changelist")
        return format_html(
            '<a href="{}?endpoint__id__exact={}&status__exact={}">{}</a>',
            url,
            endpoint.pk,
            status,
            f"{count:,}",
        )

    @admin.display(description="state")
    def state(self, endpoint: Endpoint) -> str:
        if not endpoint.active:
            return "inactive: gets no new events"
        if endpoint.failing_since is not None:
            until = endpoint.paused_until
            return (
                f"looks down since {_when(endpoint.failing_since)}"
                + (f"; next try {_when(until)}" if until else "")
                + (f" — {endpoint.last_error}" if endpoint.last_error else "")
            )
        if endpoint.paused_until is not None:
            return f"asked to wait until {_when(endpoint.paused_until)}"
        if endpoint.last_delivered_at is not None:
            return f"answering; last delivery {_when(endpoint.last_delivered_at)}"
        return "nothing delivered yet"

    @admin.display(description="signing secret")
    def secret_shown(self, endpoint: Endpoint) -> str:
        return endpoint_secret_shown(endpoint) or "none yet: one is made on saving"

    @admin.display(description="deliveries")
    def deliveries_shown(self, endpoint: Endpoint) -> str:
        return format_html(
            "{} pending, {} given up — "
            '<a href="{}?endpoint__id__exact={}">all its deliveries</a>',
            self.waiting(endpoint),
            self.given_up(endpoint),
            reverse("admin:stream_delivery_changelist"),
            endpoint.pk,
        )

    @admin.action(description="Send a test event", permissions=["change"])
    def send_test_event(
        self, request: HttpRequest, queryset: QuerySet[Endpoint]
    ) -> None:
        for endpoint in queryset:
            self._test(request, endpoint)

    def _test(self, request: HttpRequest, endpoint: Endpoint) -> None:
        if not endpoint.active:
            self.message_user(
                request,
                f"{endpoint} is inactive: no test event was sent. Make it active "
                "first.",
                messages.WARNING,
            )
            return
        event = endpoint_test_send(endpoint=endpoint)
        self.message_user(
            request,
            f"A test event (evt_{event.pk}) is on its way to {endpoint.url}; its "
            "delivery and each attempt are under Deliveries.",
            messages.SUCCESS,
        )

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view
        return [
            path(
                "<int:pk>/rotate-secret/",
                view(self.rotate_secret_view),
                name="stream_endpoint_rotate_secret",
            ),
            path(
                "<int:pk>/test/",
                view(self.test_view),
                name="stream_endpoint_test",
            ),
            *super().get_urls(),
        ]

    def object_actions(
        self, request: HttpRequest, endpoint: Endpoint
    ) -> list[dict[str, Any]]:
        if not self.has_change_permission(request, endpoint):
            return []
        return [
            {
                "url": reverse("admin:stream_endpoint_test", args=[endpoint.pk]),
                "label": "Send a test event",
            },
            {
                "url": reverse(
                    "admin:stream_endpoint_rotate_secret", args=[endpoint.pk]
                ),
                "label": "Rotate signing secret",
                "confirm": "Make a new signing secret? It is shown once. The current "
                "one still signs, beside it, for STREAM_SECRET_OVERLAP_HOURS.",
            },
        ]

    def _changeable(self, request: HttpRequest, pk: int) -> Endpoint:
        endpoint = get_object_or_404(Endpoint, pk=pk)
        if not self.has_change_permission(request, endpoint):
            raise PermissionDenied
        return endpoint

    def test_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        endpoint = self._changeable(request, pk)
        if request.method == "POST":
            self._test(request, endpoint)
        return HttpResponseRedirect(reverse("admin:stream_endpoint_change", args=[pk]))

    def rotate_secret_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        endpoint = self._changeable(request, pk)
        if request.method != "POST":
            return HttpResponseRedirect(
                reverse("admin:stream_endpoint_change", args=[pk])
            )
        return self._secret_page(
            request, endpoint, endpoint_secret_rotate(endpoint=endpoint)
        )

    def _secret_page(
        self, request: HttpRequest, endpoint: Endpoint, secret: str
    ) -> HttpResponse:
        """The new signing secret, shown this once: in the answer to the POST that
        made it, never stored in a message or a session."""
        endpoint.refresh_from_db()
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "endpoint": endpoint,
            "secret": secret,
            "previous_until": endpoint.previous_secret_until,
            "title": f"Signing secret of {endpoint}",
        }
        response = TemplateResponse(
            request, "admin/stream/endpoint/signing_secret.html", context
        )
        response["Cache-Control"] = "no-store"
        return response

    def save_model(
        self, request: HttpRequest, obj: Endpoint, form: Any, change: bool
    ) -> None:
        super().save_model(request, obj, form, change)
        setattr(request, NEW_SECRET, endpoint_secret_ensure(endpoint=obj))

    def response_add(
        self, request: HttpRequest, obj: Endpoint, post_url_continue: str | None = None
    ) -> HttpResponse:
        secret = getattr(request, NEW_SECRET, None)
        if secret:
            return self._secret_page(request, obj, secret)
        return super().response_add(request, obj, post_url_continue)


def _when(moment: Any) -> str:
    return date_format(localtime(moment), "DATETIME_FORMAT")


class AttemptInline(admin.TabularInline):
    model = Attempt
    fields = readonly_fields = (
        "at",
        "duration_ms",
        "response_status",
        "error",
        "response_excerpt",
    )
    extra = 0
    can_delete = False
    ordering = ["-at"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class EventTypeFilter(admin.SimpleListFilter):
    title = "type"
    parameter_name = "event_type"

    def lookups(self, request: HttpRequest, model_admin: Any) -> Any:
        return Event._meta.get_field("type").choices

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[Delivery]
    ) -> QuerySet[Delivery]:
        value = self.value()
        return queryset.filter(event_type=value) if value else queryset


@admin.register(Delivery)
class DeliveryAdmin(RecordAdmin):
    paginator = CappedPaginator  # many rows: never counted in full
    show_full_result_count = False
    list_per_page = 100
    list_display = [
        "id",
        "event_type",
        "endpoint",
        "contact_key",
        "status",
        "attempts",
        "when",
        "last_status_code",
        "error_shown",
    ]
    list_filter = ["status", EventTypeFilter, "endpoint"]
    list_select_related = ["endpoint"]
    sortable_by = ("id",)
    search_fields = ["=event__id"]
    search_help_text = "An event's id (the number in its webhook-id, evt_…)."
    fields = readonly_fields = (
        "endpoint",
        "event_shown",
        "event_type",
        "contact_key",
        "status",
        "attempts",
        "created_at",
        "next_attempt_at",
        "delivered_at",
        "last_status_code",
        "last_error",
        "body",
    )
    inlines = [AttemptInline]

    @admin.display(description="delivered, or next try")
    def when(self, delivery: Delivery) -> str:
        if delivery.delivered_at is not None:
            return _when(delivery.delivered_at)
        if delivery.status == Delivery.Status.PENDING:
            return "from " + _when(delivery.next_attempt_at)
        return "—"

    @admin.display(description="last error")
    def error_shown(self, delivery: Delivery) -> str:
        text = " ".join(delivery.last_error.split())
        return text if len(text) <= 60 else text[:59] + "…"

    @admin.display(description="event")
    def event_shown(self, delivery: Delivery) -> str:
        return f"evt_{delivery.event_id} (webhook-id)"

    @admin.display(description="body posted")
    def body(self, delivery: Delivery) -> str:
        event = delivery.event
        text = json.dumps(event.body(), indent=2, ensure_ascii=False)
        return format_html("<pre style='margin:0'>{}</pre>", text)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Delivery], search_term: str
    ) -> tuple[QuerySet[Delivery], bool]:
        term = search_term.strip().removeprefix("evt_")
        if not term:
            return queryset, False
        if not term.isdigit():
            return queryset.none(), False
        return queryset.filter(event_id=int(term)), False
