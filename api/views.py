"""The HTTP API besides the admin: JSON in, JSON out, clear errors."""

import json
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest, JsonResponse
from django.utils import timezone

from audiences.events import EventRefused, event_time_parse, properties_check
from audiences.models import Contact
from audiences.phones import normalize_phone
from campaigns.filters import CampaignFilter
from campaigns.models import Campaign
from flows.triggers import event_record

from .auth import api_user, bearer_given
from .http import api_methods, error


@api_methods("POST")
def events(request: HttpRequest) -> JsonResponse:
    """A behavioural event: puts the contact on every published flow waiting for it.

    Body: {"phone": "+525500998877", "event": "cart_abandoned", "id": "evt-123",
    "properties": {...}, "occurred_at": "2026-12-05T22:30:00Z"}; occurred_at is
    optional (default: now). The event is stored once per id ("stored": false the
    next times); the same id twice puts nobody on a flow again. The answer names
    the flows entered and those passed over, with why ("occurrence 2 of 3").
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
    elif len(event) > 100:
        problems["event"] = "At most 100 characters."
    if not event_id:
        problems["id"] = "Give the event's unique id (used to enter each flow once)."
    elif len(event_id) > 150:
        problems["id"] = "At most 150 characters."
    now = timezone.now()
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
        return error(400, "The event was not accepted.", fields=problems)
    contact = Contact.objects.filter(phone=phone).first()
    if contact is None:
        return error(404, f"No contact has the phone {phone}; import it first.")
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
        return error(
            400, "The event was not accepted.", fields={exc.field: exc.message}
        )
    return JsonResponse(
        {
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
    )


PAGE_SIZE = 100


@api_methods("GET")
def campaigns(request: HttpRequest) -> JsonResponse:
    """Campaigns matching ?name=, flow=, flow_name=, group=, group_name=, status=
    (repeatable); ?page=N, 100 a page. An API key, or an operator signed in."""

    user = api_user(request)
    if not user.is_authenticated:
        return error(
            401, "Sign in, or send an API key as 'Authorization: Bearer <key>'."
        )
    if not user.has_perm("campaigns.view_campaign"):
        return error(403, "This user may not view campaigns.")
    found = CampaignFilter(
        request.GET,
        queryset=Campaign.objects.select_related("flow", "group")
        .prefetch_related("also_groups", "excluded_groups", "rules")
        .order_by("-start_at", "pk"),
    )
    if not found.is_valid():
        return error(
            400, "The filters are not valid.", fields=found.errors.get_json_data()
        )
    page_text = request.GET.get("page", "1")
    if not (page_text.isascii() and page_text.isdigit()) or int(page_text) < 1:
        return error(400, "page must be a whole number from 1.")
    page = int(page_text)
    rows = list(found.qs[(page - 1) * PAGE_SIZE : page * PAGE_SIZE + 1])
    return JsonResponse(
        {
            "page": page,
            "next_page": page + 1 if len(rows) > PAGE_SIZE else None,
            "results": [_campaign_json(c) for c in rows[:PAGE_SIZE]],
        }
    )


def _campaign_json(campaign: Any) -> dict[str, Any]:
    return {
        "id": campaign.pk,
        "name": campaign.name,
        "description": campaign.description,
        "status": campaign.status,
        "status_label": campaign.get_status_display(),
        "flow": {"id": campaign.flow_id, "name": campaign.flow.name},
        "group": {"id": campaign.group_id, "name": campaign.group.name},
        # Beyond its first group: more groups, groups left out, conditions.
        "also_groups": [
            {"id": g.pk, "name": g.name} for g in campaign.also_groups.all()
        ],
        "excluded_groups": [
            {"id": g.pk, "name": g.name} for g in campaign.excluded_groups.all()
        ],
        "match": campaign.match,
        "conditions": [
            {"field": r.field, "op": r.op, "value": r.value}
            for r in campaign.rules.all()
        ],
        "schedule": campaign.schedule,
        "start_at": campaign.start_at.isoformat(),
        "end_at": campaign.end_at.isoformat(),
    }
