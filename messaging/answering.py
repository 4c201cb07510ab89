"""Answering a conversation from the console, over its channel.

An answer is a message like any other: a row in a batch of its own (the batch's one
template holds the text), queued for the send task when the transaction commits,
claimed, checked for opt-out and active hours and handed to the channel's backend
with its id as idempotency key (messaging.sending). Who answered is kept on the
answer. Refused, with the reason: a closed conversation, a sender who is no contact,
an opted-out contact, a disabled channel, and on WhatsApp channels an answer more
than 24 hours after the contact's last reply (the provider's session window).
"""

import datetime as dt

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from .models import Answer, Channel, Conversation, Message
from .outbox import batch_open
from .queueing import send_range_on_commit
from .suppressed import suppressed_refusal

WHATSAPP_SESSION = dt.timedelta(hours=24)
LONGEST_ANSWER = 1600  # characters: what SMS and WhatsApp providers take in one
STEP = 1  # the one template of an answer's batch


class AnswerRefused(Exception):
    """An answer the provider's rules or the conversation do not allow; the message
    says why."""


def answerable_until(conversation: Conversation) -> dt.datetime | None:
    """Until when the channel lets the contact be answered; None where no time
    limits it."""
    if conversation.channel.kind != Channel.Kind.WHATSAPP:
        return None
    return conversation.last_reply_at + WHATSAPP_SESSION


def answer_refusal(conversation: Conversation, now: dt.datetime) -> str:
    """Why the conversation cannot be answered now, in a sentence; "" when it
    can."""
    channel = conversation.channel
    if conversation.status != Conversation.Status.OPEN:
        return f"{conversation} is closed: reopen it to answer."
    contact = conversation.contact
    if contact is None:
        return (
            f"{conversation.sender} is not a contact: add them as a contact, then "
            "answer from a new conversation."
        )
    if contact.opted_out_at is not None:
        when = timezone.localtime(contact.opted_out_at)
        return (
            f"{contact} opted out on {when:%Y-%m-%d %H:%M}: nothing more may be sent "
            "to them."
        )
    if not channel.enabled:
        return f"The channel {channel} is disabled: enable it to answer."
    suppressed = suppressed_refusal(contact, channel)
    if suppressed:
        return suppressed
    until = answerable_until(conversation)
    if until is not None and now > until:
        last = timezone.localtime(conversation.last_reply_at)
        return (
            f"WhatsApp allows answers only within 24 hours of the contact's last "
            f"message ({last:%Y-%m-%d %H:%M}); that window closed at "
            f"{timezone.localtime(until):%Y-%m-%d %H:%M}. Wait for the contact to "
            "write again."
        )
    return ""


def conversation_answer(
    *, conversation: Conversation, text: str, by: User, now: dt.datetime
) -> Answer:
    """Write ``text`` to the conversation's contact on its channel, as ``by``: the
    message is sent by the send task queued when the transaction commits. Raise
    AnswerRefused when it may not be sent."""
    text = text.strip()
    if not text:
        raise AnswerRefused("Write the answer first: it is empty.")
    if len(text) > LONGEST_ANSWER:
        raise AnswerRefused(
            f"The answer is {len(text)} characters long; at most {LONGEST_ANSWER} "
            "go in one message."
        )
    with transaction.atomic():
        # Read again under lock: a close, a STOP or a reassignment just now counts.
        conversation = (
            Conversation.objects.select_for_update(of=("self",))
            .select_related("contact", "channel")
            .get(pk=conversation.pk)
        )
        refusal = answer_refusal(conversation, now)
        if refusal:
            raise AnswerRefused(refusal)
        assert conversation.contact is not None  # answer_refusal said so
        author = by.get_username()
        batch = batch_open(
            name=f"Answer by {author} to {conversation}",
            templates={
                str(STEP): {
                    "body": text,
                    "label": f"answer by {author} in conversation {conversation.pk}",
                }
            },
            tags={"conversation": conversation.pk},
        )
        message = Message.objects.create(
            batch=batch,
            contact=conversation.contact,
            step=STEP,
            channel=conversation.channel,
            # As messages_write leases them: the sweeper queues it again if the
            # broker loses its task.
            lease_until=now + dt.timedelta(seconds=settings.MESSAGING_LEASE_SECONDS),
        )
        answer = Answer.objects.create(
            conversation=conversation,
            batch=batch,
            author=by,
            author_name=author,
            body=text,
            answered_at=now,
        )
        Conversation.objects.filter(pk=conversation.pk).update(
            last_message_at=now, last_text=" ".join(text.split())[:200]
        )
        send_range_on_commit(batch_id=batch.pk, low=message.pk, high=message.pk)
    return answer
