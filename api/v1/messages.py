"""/api/v1/messages: the outbox, one message by id or a contact's, a batch's or a
status's messages, newest first. Millions of rows: every filter is one an index
serves (a channel only narrows one of the others)."""

from typing import Any

import django_filters
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_field, inline_serializer
from rest_framework import exceptions, mixins, serializers, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from audiences.models import Contact
from messaging.models import Message
from messaging.rendering import message_text

from .base import IdFilter, found_by_id, phone_normalized

ContactRefSerializer = inline_serializer(
    "MessageContact",
    {"id": serializers.IntegerField(), "phone": serializers.CharField()},
)
ChannelRefSerializer = inline_serializer(
    "MessageChannel",
    {
        "id": serializers.IntegerField(),
        "name": serializers.CharField(),
        "kind": serializers.CharField(),
    },
)
STATES = [*Message.Status.choices, ("sending", "Sending (a worker holds it)")]


class MessageSerializer(serializers.ModelSerializer[Message]):
    contact = serializers.SerializerMethodField()
    channel = serializers.SerializerMethodField()
    status = serializers.ChoiceField(
        source="state",
        choices=STATES,
        help_text="sending: queued or deferred, and held by a worker now.",
    )
    sent_for = serializers.CharField(
        source="batch.name", help_text="What it was sent for (its batch)."
    )
    body = serializers.SerializerMethodField(
        help_text="The text as sent; before it is sent, as it will be sent."
    )

    class Meta:
        model = Message
        fields = [
            "id",
            "contact",
            "channel",
            "status",
            "attempts",
            "error",
            "provider_id",
            "batch",
            "sent_for",
            "body",
            "not_before",
            "sent_at",
            "created_at",
        ]
        read_only_fields = fields

    @extend_schema_field(ContactRefSerializer)
    def get_contact(self, message: Message) -> dict[str, Any]:
        return {"id": message.contact_id, "phone": message.contact.phone}

    @extend_schema_field(ChannelRefSerializer)
    def get_channel(self, message: Message) -> dict[str, Any]:
        channel = message.channel
        return {"id": channel.pk, "name": channel.name, "kind": channel.kind}

    def get_body(self, message: Message) -> str:
        return message_text(message)


class MessageFilter(django_filters.FilterSet):
    contact = IdFilter(
        field_name="contact_id", help_text="A contact's id: its messages."
    )
    phone = django_filters.CharFilter(
        method="by_phone", help_text="A contact's phone (E.164): its messages."
    )
    batch = IdFilter(
        field_name="batch_id",
        help_text="A batch's id: the messages written together (a campaign run's, "
        "a transactional send's).",
    )
    status = django_filters.ChoiceFilter(
        choices=Message.Status.choices, help_text="The stored status."
    )
    channel = IdFilter(
        field_name="channel_id",
        help_text="A channel's id; only with contact, phone or batch.",
    )

    class Meta:
        model = Message
        fields: list[str] = []

    def by_phone(self, queryset: QuerySet[Message], name: str, value: str) -> Any:
        # The contact first (the unique phone index), then its messages (theirs).
        contact_id = (
            Contact.objects.filter(phone=phone_normalized(value, "phone"))
            .values_list("pk", flat=True)
            .first()
        )
        return queryset.filter(contact_id=contact_id) if contact_id else queryset.none()

    def filter_queryset(self, queryset: QuerySet[Message]) -> QuerySet[Message]:
        given = self.form.cleaned_data
        narrowed = any(given.get(name) for name in ("contact", "phone", "batch"))
        if given.get("channel") is not None and not narrowed:
            # No index serves the channel alone: every message would be read.
            raise exceptions.ValidationError(
                {"channel": "Filter by channel together with contact, phone or batch."}
            )
        return super().filter_queryset(queryset)


@extend_schema(tags=["messages"])
class MessageViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet[Message]
):
    """Messages, one row per contact per send: what was sent, to whom, and how it
    went."""

    queryset = Message.objects.select_related("contact", "channel", "batch")
    serializer_class = MessageSerializer
    filterset_class = MessageFilter

    @extend_schema(summary="List messages, newest first")
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(summary="Get a message")
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        message = found_by_id(self.get_queryset(), self.kwargs.get("pk"), "message")
        return Response(MessageSerializer(message).data)
