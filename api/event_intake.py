"""A behavioural event reported by another system, read and recorded: what
/api/events and /api/v1/events share (each speaks its own HTTP around it)."""

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError

from audiences.events import EventRefused, event_time_parse, properties_check
from audiences.models import Contact
from audiences.phones import normalize_phone
from flows.triggers import event_record


class EventNotAccepted(Exception):
    """The event as sent cannot be taken: ``fields`` says why, by field."""

    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__("The event was not accepted.")
        self.fields = fields


class EventContactUnknown(Exception):
    """No contact has the event's phone."""

    def __init__(self, phone: str) -> None:
        super().__init__(f"No contact has the phone {phone}; import it first.")
        self.phone = phone


def event_report(payload: dict[str, Any], *, now: dt.datetime) -> dict[str, Any]:
    """Check the event ``payload`` (phone, event, id, properties, occurred_at), put
    its contact on every published flow waiting for it (flows.triggers) and return
    the answer: the flows entered, and those passed over with why. Raise
    EventNotAccepted or EventContactUnknown."""
    problems = {}
    event = str(payload.get("event") or "").strip()
    event_id = str(payload.get("id") or "").strip()
    properties = payload.get("properties") or {}
    if not event:
        problems["event"] = "Give the event name."
    elif len(event) > 100:
        problems["event"] = "At most 100 characters."
    if not event_id:
        problems["id"] = "Give the event's unique id (used to enter each flow once)."
    elif len(event_id) > 150:
        problems["id"] = "At most 150 characters."
    occurred_at = None
    try:
        properties = properties_check(properties)
    except EventRefused as exc:
        problems[exc.field] = exc.message
    try:
        occurred_at = event_time_parse(payload.get("occurred_at"), now=now)
    except EventRefused as exc:
        problems[exc.field] = exc.message
    phone = ""
    try:
        phone = normalize_phone(payload.get("phone") or "")
    except ValidationError as exc:
        problems["phone"] = exc.messages[0]
    if problems:
        raise EventNotAccepted(problems)
    contact = Contact.objects.filter(phone=phone).first()
    if contact is None:
        raise EventContactUnknown(phone)
    try:
        outcome = event_record(
            contact=contact,
            event=event,
            event_id=event_id,
            properties=properties,
            occurred_at=occurred_at,
            now=now,
        )
    except EventRefused as exc:
        raise EventNotAccepted({exc.field: exc.message}) from None
    return {
        "event": event,
        "id": event_id,
        "contact": phone,
        "stored": outcome.stored,
        "flows": outcome.flows,
        "entered": outcome.entered,
        "entered_flows": outcome.entered_flows,
        **({"passed_over": outcome.passed_over} if outcome.passed_over else {}),
        **({"refused": outcome.refused} if outcome.refused else {}),
    }
