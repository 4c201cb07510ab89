"""/api/v1/sends: one message to one contact now (messaging.transactional), or one
contact put on a flow now (flows.starts). Each needs an Idempotency-Key header: a
request sent again with it is answered as the first time, and nothing is sent
twice (api.idempotency)."""

from typing import Any

from django import forms
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import exceptions, serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from audiences.events import EventRefused, properties_check
from flows.channels import FlowNotRunnable
from flows.models import Flow, Journey
from flows.starts import FlowStartRefused, flow_start_now
from messaging.models import Channel, Message
from messaging.outbound import http_url
from messaging.transactional import SendRefused, message_send_now

from ..errors import Conflict
from ..idempotency import HEADER, REPLAYED, idempotent
from .base import Audited, IdField, contact_by_phone
from .messages import MessageSerializer

SendSerializer = type(
    "Send",
    (serializers.Serializer,),
    {
        "phone": serializers.CharField(
            help_text="The contact's phone (E.164); the contact must exist."
        ),
        "channel": IdField(
            required=False,
            help_text="A message: the id of the channel it goes out on (with body).",
        ),
        "body": serializers.CharField(
            required=False,
            allow_blank=True,
            help_text="A message: its text; {{NOMBRE}} is the contact's custom data.",
        ),
        "media_url": serializers.CharField(
            required=False,
            allow_blank=True,
            help_text="A message: an image or file sent with it (http or https).",
        ),
        "flow": IdField(
            required=False,
            help_text="A flow instead: the id of a published flow the contact is "
            "put on.",
        ),
        "context": serializers.DictField(
            child=serializers.JSONField(allow_null=True),
            required=False,
            help_text="With a flow: values its templates read like custom data "
            "({{order_id}}), as an event's properties.",
        ),
    },
)


class JourneySerializer(serializers.ModelSerializer[Journey]):
    version = serializers.IntegerField(
        source="flow_version.number", help_text="The flow version it runs."
    )
    phone = serializers.CharField(source="contact.phone")

    class Meta:
        model = Journey
        fields = [
            "id",
            "flow",
            "version",
            "contact",
            "phone",
            "status",
            "step",
            "due_at",
            "entered_at",
        ]
        read_only_fields = fields


SentSerializer = inline_serializer(
    "Sent",
    {
        "message": MessageSerializer(required=False, help_text="A message sent."),
        "journey": JourneySerializer(
            required=False, help_text="A flow started: the contact's journey."
        ),
    },
)
MEDIA_URL = forms.URLField(required=False, assume_scheme="https", validators=[http_url])


def _label(request: Request) -> str:
    token = request.auth
    if token is not None and hasattr(token, "name"):
        return f"transactional message via API key {token.name}"
    return f"transactional message via API, {request.user.get_username()}"


@extend_schema(tags=["messages"])
class SendViewSet(Audited, viewsets.GenericViewSet[Message]):
    """Transactional sends: to one contact, now."""

    queryset = Message.objects.none()
    serializer_class = MessageSerializer
    permission_codes = {"create": "messaging.add_message"}

    @extend_schema(
        summary="Send a message, or start a flow, for one contact now",
        description=(
            "Give channel and body (and media_url) for a message, or flow (and "
            "context) to put the contact on a published flow. Send an "
            "Idempotency-Key header unique to the request: sent again with the same "
            "key and body, the first answer comes back (with Idempotent-Replayed: "
            "true) and nothing is sent twice; with another body, 409. Keys are kept "
            "API_IDEMPOTENCY_HOURS (default 24). A refused request keeps no key. "
            "409 when the contact opted out, the channel is disabled or the flow "
            "cannot be started."
        ),
        parameters=[
            OpenApiParameter(
                HEADER,
                str,
                OpenApiParameter.HEADER,
                required=True,
                description="Unique to the request (a UUID); at most 255 characters.",
            )
        ],
        request=SendSerializer,
        responses={201: SentSerializer},
    )
    def create(self, request: Request) -> Response:
        def write(key: str) -> tuple[int, dict[str, Any]]:
            return status.HTTP_201_CREATED, self._send(request, key)

        response = idempotent(request, write)
        response.setdefault(REPLAYED, "false")
        return response

    def _send(self, request: Request, key: str) -> dict[str, Any]:
        given = SendSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        values = given.validated_data
        now = timezone.now()
        is_message = any(name in values for name in ("channel", "body", "media_url"))
        if is_message == ("flow" in values):
            raise exceptions.ValidationError(
                "Give channel and body for a message, or flow for a flow; not both."
            )
        if is_message:
            return {"message": self._message(request, values, now)}
        return {"journey": self._journey(request, values, key, now)}

    def _message(
        self, request: Request, values: dict[str, Any], now: Any
    ) -> dict[str, Any]:
        problems = {}
        if "context" in values:
            problems["context"] = "Only with a flow."
        if not values.get("body"):
            problems["body"] = "Give the message's text."
        channel = None
        if "channel" not in values:
            problems["channel"] = "Give the id of the channel it goes out on."
        else:
            channel = Channel.objects.filter(pk=values["channel"]).first()
            if channel is None:
                problems["channel"] = f"No channel has the id {values['channel']}."
        media_url = ""
        try:
            media_url = MEDIA_URL.clean(values.get("media_url", ""))
        except DjangoValidationError as exc:
            problems["media_url"] = " ".join(exc.messages)
        if problems:
            raise exceptions.ValidationError(problems)
        assert channel is not None
        contact = contact_by_phone(values["phone"])
        try:
            sent = message_send_now(
                contact=contact,
                channel=channel,
                body=values["body"],
                media_url=media_url,
                label=_label(request),
                now=now,
            )
        except SendRefused as exc:
            raise Conflict(str(exc)) from None
        message = Message.objects.select_related("contact", "channel", "batch").get(
            pk=sent.pk
        )
        return dict(MessageSerializer(message).data)

    def _journey(
        self, request: Request, values: dict[str, Any], key: str, now: Any
    ) -> dict[str, Any]:
        flow = Flow.objects.filter(pk=values["flow"]).first()
        if flow is None:
            raise exceptions.ValidationError(
                {"flow": f"No flow has the id {values['flow']}."}
            )
        try:
            # As big as an event's properties may be, which it stands for.
            context = properties_check(values.get("context"))
        except EventRefused as exc:
            raise exceptions.ValidationError({"context": exc.message}) from None
        contact = contact_by_phone(values["phone"])
        try:
            journey = flow_start_now(
                flow=flow, contact=contact, key=key, context=context, now=now
            )
        except (FlowStartRefused, FlowNotRunnable) as exc:
            raise Conflict(str(exc)) from None
        journey.contact = contact
        return dict(JourneySerializer(journey).data)
