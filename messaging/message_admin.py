"""The messages list and a message's page, as an operator reads them."""

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.timezone import localtime

from audiences.phones import contact_search
from config.paginators import CappedPaginator
from config.records_admin import RecordAdmin

from .capping import capped_error_shown, capped_until
from .message_filters import ChannelFilter, DateFilter, message_filters
from .models import Message

# What an operator reads on a message's page.
SHOWN = (
    "contact_shown",
    "channel",
    "sent_for",
    "flow_step",
    "status_shown",
    "text_sent",
    "written",
    "gone_out",
    "provider_id",
    "delivery_report",
)
# How the sending machinery handled it: superusers only, folded.
TECHNICAL = (
    "batch",
    "origin",
    "step",
    "attempts",
    "not_before",
    "lease_until",
    "claim_token",
    "error",
    "reported_status",
)


def _moment(value: Any) -> str:
    return date_format(localtime(value), "DATETIME_FORMAT") if value else "—"


@admin.register(Message)
class MessageAdmin(RecordAdmin):
    paginator = CappedPaginator  # millions of rows: never counted in full
    list_display = [
        "id",
        "contact",
        "sent_for",
        "state",
        "text",
        "when",
    ]
    list_select_related = ["contact", "channel", "batch"]
    search_fields = ["contact__phone"]  # looked up exactly: get_search_results
    search_help_text = "A phone number: that contact's messages."
    # Sorting millions of rows by another column reads them all.
    sortable_by = ("id",)
    raw_id_fields = ["batch", "contact"]
    readonly_fields = SHOWN + TECHNICAL
    show_full_result_count = False
    # Counting each filter's choices would read millions of rows per choice.
    show_facets = admin.ShowFacets.NEVER
    list_per_page = 100

    def get_list_filter(self, request: HttpRequest) -> list[Any]:
        # Each served by an index or by an id range on millions of rows: the status
        # and the (batch, status) index; the channel among the newest rows; the
        # campaign and run (registered by campaigns) as their batches; the date as
        # an id range.
        return ["status", ChannelFilter, *message_filters(), DateFilter]

    def get_fieldsets(self, request: HttpRequest, obj: Message | None = None) -> Any:
        sets: list[tuple[str | None, dict[str, Any]]] = [(None, {"fields": SHOWN})]
        if getattr(request.user, "is_superuser", False):
            sets.append(
                (
                    "Technical",
                    {
                        "fields": TECHNICAL,
                        "classes": ["collapse"],
                        "description": "How the sending machinery handled it: the "
                        "worker's claim and lease, the attempts, the stored error.",
                    },
                )
            )
        return sets

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Message], search_term: str
    ) -> tuple[QuerySet[Message], bool]:
        return contact_search(queryset, search_term), False

    @admin.display(description="status", ordering="status")
    def state(self, message: Message) -> str:
        state = message.state
        if capped_until(message) is not None:
            return "Capped (waiting for a frequency cap)"
        return Message.Status(state).label if state in Message.Status else "Sending"

    @admin.display(description="status")
    def status_shown(self, message: Message) -> str:
        """The status and why it is so, in words."""
        state = self.state(message)
        reason = self.reason(message)
        return f"{state}: {reason}" if reason else state

    def reason(self, message: Message) -> str:
        status = message.state
        if capped_until(message) is not None:
            return capped_error_shown(message)
        if status == Message.Status.DEFERRED:
            return "outside active hours; goes out from " + _moment(message.not_before)
        if status == Message.Status.QUEUED and message.attempts and message.not_before:
            return (
                f"attempt {message.attempts} failed ({message.error}); tried again "
                f"from {_moment(message.not_before)}"
            )
        if status == Message.Status.FAILED:
            tries = (
                f" after {message.attempts} attempts" if message.attempts > 1 else ""
            )
            return f"{message.error or 'no reason given'}{tries}"
        if status == Message.Status.SKIPPED:
            return message.error or "the contact had opted out"
        if status == Message.Status.CANCELLED:
            return message.error
        return ""

    @admin.display(description="contact")
    def contact_shown(self, message: Message) -> SafeString:
        url = reverse("admin:audiences_contact_change", args=[message.contact_id])
        return format_html('<a href="{}">{}</a>', url, message.contact)

    @admin.display(description="text as sent")
    def text_sent(self, message: Message) -> str:
        return message.body or "— (filled in when it is sent)"

    @admin.display(description="written")
    def written(self, message: Message) -> str:
        return _moment(message.created_at)

    @admin.display(description="sent")
    def gone_out(self, message: Message) -> str:
        return _moment(message.sent_at)

    @admin.display(description="delivery report")
    def delivery_report(self, message: Message) -> str:
        if message.status == Message.Status.DELIVERED:
            return "Delivered, as the provider reported"
        if message.status == Message.Status.FAILED and message.sent_at is not None:
            return f"Not delivered, as the provider reported: {message.error}"
        if message.status == Message.Status.SENT:
            return "None yet: the provider has not reported delivery"
        return "—"

    @admin.display(description="sent, or goes out", ordering="sent_at")
    def when(self, message: Message) -> str:
        """When it went out; for one still waiting (active hours, a retry), when it
        goes out at the earliest."""
        if message.sent_at is not None:
            return _moment(message.sent_at)
        if message.not_before is not None and message.state in (
            Message.Status.QUEUED,
            Message.Status.DEFERRED,
        ):
            return "from " + _moment(message.not_before)
        return "—"

    @admin.display(description="flow step")
    def flow_step(self, message: Message) -> str:
        """The step as its batch names it ("step 1 of Welcome v2"): the message
        stores the step's id, which means nothing to an operator."""
        template = message.batch.template(message.step)
        if template is None or not template.get("label"):
            return f"a step its batch has no text for (id {message.step})"
        return str(template["label"])

    @admin.display(description="sent for", ordering="batch__name")
    def sent_for(self, message: Message) -> str:
        return message.batch.name

    @admin.display(description="text sent, or the error")
    def text(self, message: Message) -> str:
        error = capped_error_shown(message)
        text = error if error and not message.body else message.body
        text = " ".join(text.split())
        return text if len(text) <= 48 else text[:47] + "…"
