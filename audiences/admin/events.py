"""Behavioural events (audiences.events): a read-only list, and a contact's latest
events on its page."""

import json
from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse

from audiences.events import ContactEvent
from audiences.models import Contact
from audiences.phones import contact_search
from config.paginators import CappedPaginator
from config.records_admin import RecordAdmin

from .sections import ContactSection, contact_section_register

SHOWN = [
    "contact",
    "name",
    "event_id",
    "occurred_at",
    "received_at",
    "properties_json",
]
# Events shown on a contact's page, newest first.
RECENT = 10


@admin.register(ContactEvent)
class ContactEventAdmin(RecordAdmin):
    paginator = CappedPaginator  # millions of rows: never counted in full
    show_full_result_count = False
    list_display = ["occurred_at", "name", "contact", "event_id", "received_at"]
    list_filter = ["name"]
    list_select_related = ["contact"]
    sortable_by = ("occurred_at",)
    search_fields = ["contact__phone"]  # searched by contact_search below
    search_help_text = "A phone number shows that contact's events."
    fields = tuple(SHOWN)
    readonly_fields = SHOWN

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[ContactEvent], search_term: str
    ) -> tuple[QuerySet[ContactEvent], bool]:
        return contact_search(queryset, search_term), False

    @admin.display(description="properties")
    def properties_json(self, event: ContactEvent) -> str:
        return json.dumps(event.properties, ensure_ascii=False, indent=2)


def recent_events_context(contact: Contact) -> dict[str, Any]:
    return {
        "events": list(
            ContactEvent.objects.filter(contact=contact).order_by(
                "-occurred_at", "-id"
            )[:RECENT]
        ),
        "shown": RECENT,
        "list_url": reverse("admin:audiences_contactevent_changelist")
        + f"?q={contact.phone}",
    }


contact_section_register(
    ContactSection(
        name="events",
        template="admin/audiences/contactevent/recent.html",
        context=recent_events_context,
        permission="audiences.view_contactevent",
    )
)
