"""/api/v1/events: a behavioural event, which puts its contact on every published
flow waiting for it; what /api/events does (api.event_intake), in the API's
shape."""

from typing import Any

from django.utils import timezone
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import exceptions, serializers, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from audiences.events import ContactEvent

from ..event_intake import EventContactUnknown, EventNotAccepted, event_report
from .base import Audited

EventSerializer = type(
    "Event",
    (serializers.Serializer,),
    {
        "phone": serializers.CharField(help_text="The contact's phone (E.164)."),
        "event": serializers.CharField(
            max_length=100, help_text="The event's name, e.g. cart_abandoned."
        ),
        "id": serializers.CharField(
            max_length=150,
            help_text="Your unique id of the event: sent again, it is stored once "
            "and puts nobody on a flow again.",
        ),
        "properties": serializers.DictField(
            child=serializers.JSONField(allow_null=True),
            required=False,
            help_text="What happened, read by the flows' conditions and templates; "
            "at most 16 KB as JSON.",
        ),
        "occurred_at": serializers.DateTimeField(
            required=False,
            help_text="When it happened, with its UTC offset; default: now.",
        ),
    },
)
EventAnswerSerializer = inline_serializer(
    "EventRecorded",
    {
        "event": serializers.CharField(),
        "id": serializers.CharField(),
        "contact": serializers.CharField(help_text="The contact's phone."),
        "stored": serializers.BooleanField(
            help_text="False: the event id was stored before (the event counts once)."
        ),
        "flows": serializers.ListField(
            child=serializers.CharField(),
            help_text="The published flows waiting for the event.",
        ),
        "entered": serializers.IntegerField(help_text="Journeys started."),
        "entered_flows": serializers.ListField(child=serializers.CharField()),
        "passed_over": serializers.DictField(
            child=serializers.CharField(),
            required=False,
            help_text="Flows not entered, with why (occurrence 2 of 3).",
        ),
        "refused": serializers.DictField(
            child=serializers.CharField(),
            required=False,
            help_text="Flows that cannot run, with why.",
        ),
    },
)


@extend_schema(tags=["events"])
class EventViewSet(Audited, viewsets.GenericViewSet[ContactEvent]):
    """Behavioural events, reported by other systems."""

    queryset = ContactEvent.objects.none()
    serializer_class = EventSerializer
    permission_codes = {"create": "flows.report_event"}

    @extend_schema(
        summary="Report a behavioural event",
        description="Stored once per (contact, event, id); puts the contact on "
        "every published event flow waiting for it whose conditions it meets. The "
        "answer names the flows entered and those passed over, with why.",
        request=EventSerializer,
        responses={200: EventAnswerSerializer},
    )
    def create(self, request: Request) -> Response:
        if not isinstance(request.data, dict):
            raise exceptions.ValidationError("The body must be a JSON object.")
        payload: dict[str, Any] = request.data
        try:
            answer = event_report(payload, now=timezone.now())
        except EventNotAccepted as exc:
            raise exceptions.ValidationError(exc.fields) from None
        except EventContactUnknown as exc:
            raise exceptions.NotFound(str(exc)) from None
        return Response(answer)
