"""The HTTP API besides the admin: JSON in, JSON out, clear errors."""

import json
from typing import Any

from django.http import HttpRequest, JsonResponse
from django.utils import timezone

from campaigns.filters import CampaignFilter
from campaigns.models import Campaign

from .auth import api_user, bearer_given
from .event_intake import EventContactUnknown, EventNotAccepted, event_report
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
    try:
        answer = event_report(payload, now=timezone.now())
    except EventNotAccepted as exc:
        return error(400, str(exc), fields=exc.fields)
    except EventContactUnknown as exc:
        return error(404, str(exc))
    return JsonResponse(answer)


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
