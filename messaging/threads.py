"""A conversation's thread, as its page shows it: the contact's replies on the
channel and every message sent to them there (campaign and flow messages, and the
operators' answers), in time order."""

import datetime as dt
from dataclasses import dataclass

from .models import Answer, Conversation, InboundMessage, Message, shown_status

THREAD_LENGTH = 100  # the latest items; older ones are in the messages and replies


@dataclass(frozen=True)
class ThreadItem:
    at: dt.datetime
    incoming: bool
    who: str  # the contact, an operator's answer, or what a message was sent for
    text: str
    status: str = ""  # of a message sent: queued, sent, delivered, failed ...
    error: str = ""


def conversation_thread(
    conversation: Conversation, *, length: int = THREAD_LENGTH
) -> list[ThreadItem]:
    """The last ``length`` replies and messages between the conversation's contact
    (or sender) and Flowcast on its channel, oldest first."""
    replies = InboundMessage.objects.filter(channel_id=conversation.channel_id)
    if conversation.contact_id is not None:
        replies = replies.filter(contact_id=conversation.contact_id)
    else:
        replies = replies.filter(contact__isnull=True, sender=conversation.sender)
    sender = str(conversation.contact or conversation.sender)
    items = [
        ThreadItem(at=at, incoming=True, who=sender, text=body)
        for at, body in replies.order_by("-received_at", "-id").values_list(
            "received_at", "body"
        )[:length]
    ]
    if conversation.contact_id is not None:
        sent = (
            Message.objects.filter(
                contact_id=conversation.contact_id,
                channel_id=conversation.channel_id,
            )
            .select_related("batch")
            .order_by("-id")[:length]
        )
        messages = list(sent)
        answers = {
            answer.batch_id: answer
            for answer in Answer.objects.filter(
                batch_id__in=[m.batch_id for m in messages]
            )
        }
        for message in messages:
            answer = answers.get(message.batch_id)
            template = message.batch.template(message.step) or {}
            items.append(
                ThreadItem(
                    at=message.sent_at or message.created_at,
                    incoming=False,
                    who=(
                        f"answer by {answer.author_name}"
                        if answer
                        else message.batch.name
                    ),
                    # What was sent, or for one still waiting, what will be.
                    text=message.body or str(template.get("body") or ""),
                    status=shown_status(
                        message.status, message.claim_token is not None
                    ),
                    error=message.error,
                )
            )
    items.sort(key=lambda item: item.at)
    return items[-length:]
