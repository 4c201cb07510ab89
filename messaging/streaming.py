"""What messaging tells the event stream (stream.emitting): messages sent,
delivered and failed, and replies received, each emitted in the transaction that
records it. The events are built only when an endpoint subscribes (emit_many reads
its generator only then)."""

import datetime as dt
from collections.abc import Iterable, Iterator
from typing import Any

from stream.emitting import NewEvent, emit_many
from stream.models import EventType

from .models import Channel, InboundMessage, Message

# A message's status, and the event that says it reached it.
STATUS_EVENTS = {
    Message.Status.SENT: EventType.MESSAGE_SENT,
    Message.Status.DELIVERED: EventType.MESSAGE_DELIVERED,
    Message.Status.FAILED: EventType.MESSAGE_FAILED,
}


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _channel(channel: Channel) -> dict[str, Any]:
    return {"id": channel.pk, "name": channel.name, "kind": channel.kind}


def message_data(
    message: Message,
    status: str,
    *,
    error: str = "",
    provider_id: str = "",
    sent_at: dt.datetime | None = None,
) -> dict[str, Any]:
    """A message event's data: the message, its contact, its channel and what its
    batch was tagged with (``run`` for a campaign run's, ``flow`` for an event or
    audience flow's)."""
    contact = message.contact
    data: dict[str, Any] = {
        "message": message.pk,
        "status": status,
        "contact": {"id": contact.pk, "phone": contact.phone},
        "channel": _channel(message.channel),
        "batch": message.batch_id,
        "provider_id": provider_id or None,
        "error": error or None,
        "sent_at": _iso(sent_at),
    }
    tags = message.tags or (message.batch.tags if message.batch_id else {}) or {}
    data.update({k: v for k, v in tags.items() if k not in data})
    return data


def message_events(
    outcomes: Iterable[tuple[Message, str, str, str, dt.datetime | None]],
) -> Iterator[NewEvent]:
    """The events of messages that reached a status: (message, status, error,
    provider id, sent at) each; a message delivered or failed as its send is
    recorded (its receipt came first) was sent first, and says so."""
    for message, status, error, provider_id, sent_at in outcomes:
        said = [Message.Status.SENT] if sent_at is not None else []
        if status != Message.Status.SENT:
            said.append(Message.Status(status))
        for step in said:
            yield NewEvent(
                STATUS_EVENTS[Message.Status(step)],
                message_data(
                    message,
                    step,
                    error=error if step == Message.Status.FAILED else "",
                    provider_id=provider_id,
                    sent_at=sent_at,
                ),
                message.contact_id,
            )


def messages_emit(
    outcomes: Iterable[tuple[Message, str, str, str, dt.datetime | None]],
) -> int:
    """Emit the events of ``outcomes`` (see message_events), inside the caller's
    transaction."""
    return emit_many(events=message_events(outcomes))


def messages_status_emit(*, message_ids: list[int], status: str) -> int:
    """Emit that the messages reached ``status`` (delivered on a receipt, failed),
    read from their rows (those now in it), inside the caller's transaction."""

    def events() -> Iterator[NewEvent]:
        found = Message.objects.select_related("contact", "channel", "batch").filter(
            pk__in=message_ids, status=status
        )
        for message in found.order_by("id"):
            yield NewEvent(
                STATUS_EVENTS[Message.Status(status)],
                message_data(
                    message,
                    status,
                    error=message.error if status == Message.Status.FAILED else "",
                    provider_id=message.provider_id,
                    sent_at=message.sent_at,
                ),
                message.contact_id,
            )

    if not message_ids or status not in STATUS_EVENTS:
        return 0
    return emit_many(events=events())


def reply_emit(*, inbound: InboundMessage) -> int:
    """Emit that a reply came, inside the transaction that stores it."""

    def events() -> Iterator[NewEvent]:
        contact = inbound.contact
        yield NewEvent(
            EventType.REPLY_RECEIVED,
            {
                "reply": inbound.pk,
                "contact": (
                    {"id": contact.pk, "phone": contact.phone} if contact else None
                ),
                "sender": inbound.sender,
                "channel": _channel(inbound.channel),
                "text": inbound.body,
                "opted_out": inbound.opted_out,
                "provider_id": inbound.provider_id or None,
                "received_at": _iso(inbound.received_at),
            },
            contact.pk if contact else None,
        )

    return emit_many(events=events())
