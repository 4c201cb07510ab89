"""The HTTP API besides the admin: JSON in, JSON out, clear errors."""

import json
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from audiences.models import Contact
from audiences.phones import normalize_phone
from flows.triggers import event_record

from .auth import api_user, bearer_given


def error(status: int, message: str, **extra: Any) -> JsonResponse:
    return JsonResponse({"error": message, **extra}, status=status)


@csrf_exempt
@require_POST
def events(request: HttpRequest) -> JsonResponse:
    """A behavioural event: puts the contact on every published flow waiting for it.

    Body: {"phone": "+525500998877", "event": "cart_abandoned", "id": "evt-123",
    "properties": {...}}. The same id twice puts nobody on a flow again.
    """
    if not bearer_given(request):
        return error(401, "Send the API key as 'Authorization: Bearer <key>'.")
    user = api_user(request)
    if not user.is_authenticated:
        return error(401, "The API key is unknown or revoked.")
    if not user.has_perm("flows.report_event"):
        return error(
            403,
            "This key's user may not report events (needs the permission 'Can "
            "report behavioural events').",
        )
    try:
        payload = json.loads(request.body or b"{}")
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        return error(400, f"The body is not JSON: {exc}.")
    if not isinstance(payload, dict):
        return error(400, "The body must be a JSON object.")
    problems = {}
    event = str(payload.get("event") or "").strip()
    event_id = str(payload.get("id") or "").strip()
    properties = payload.get("properties") or {}
    if not event:
        problems["event"] = "Give the event name."
    if not event_id:
        problems["id"] = "Give the event's unique id (used to enter each flow once)."
    elif len(event_id) > 150:
        problems["id"] = "At most 150 characters."
    if not isinstance(properties, dict):
        problems["properties"] = "Must be a JSON object."
    phone = ""
    try:
        phone = normalize_phone(payload.get("phone") or "")
    except ValidationError as exc:
        problems["phone"] = exc.messages[0]
    if problems:
        return error(400, "The event was not accepted.", fields=problems)
    contact = Contact.objects.filter(phone=phone).first()
    if contact is None:
        return error(404, f"No contact has the phone {phone}; import it first.")
    outcome = event_record(
        contact=contact, event=event, event_id=event_id, properties=properties
    )
    return JsonResponse(
        {
            "event": event,
            "id": event_id,
            "contact": phone,
            "flows": outcome.flows,
            "entered": outcome.entered,
            **({"refused": outcome.refused} if outcome.refused else {}),
        }
    )
