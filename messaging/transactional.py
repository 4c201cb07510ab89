"""Transactional messages: one message to one contact, now (an order confirmation, a
one-time code), asked for by another system through the API.

Sent as the console's answers are (messaging.answering): a batch of its own whose
one template holds the text, one message row, queued for the send task when the
transaction commits, then claimed, checked for opt-out and active hours and handed
to the channel's backend with its id as idempotency key (messaging.sending).
Refused, with the reason: an empty text or one with broken placeholders, an
opted-out contact, a disabled channel, an address on the suppression list (a number
that replied STOP, for SMS).
"""

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from audiences.models import Contact

from .models import Channel, Message
from .outbox import batch_open
from .queueing import send_range_on_commit
from .suppressed import suppressed_refusal
from .templating import text_check

STEP = 1  # the one template of a transactional message's batch


class SendRefused(Exception):
    """A message that may not be sent; the text says why, for the caller."""


def opted_out_refusal(contact: Contact) -> str:
    """Why nothing may be sent to ``contact``, as the console's answers say it; ""
    when it has not opted out."""
    if contact.opted_out_at is None:
        return ""
    when = timezone.localtime(contact.opted_out_at)
    return (
        f"{contact} opted out on {when:%Y-%m-%d %H:%M}: nothing more may be sent "
        "to them."
    )


def send_refusal(*, contact: Contact, channel: Channel) -> str:
    """Why nothing may be sent to ``contact`` on ``channel`` now, in a sentence; ""
    when it may (the console's answers are refused for the same reasons)."""
    refusal = opted_out_refusal(contact)
    if refusal:
        return refusal
    if not channel.enabled:
        return f"The channel {channel} is disabled: enable it to send on it."
    return suppressed_refusal(contact, channel)


def message_send_now(
    *,
    contact: Contact,
    channel: Channel,
    body: str,
    media_url: str = "",
    label: str,
    now: dt.datetime,
) -> Message:
    """Write one message of ``body`` (placeholders filled from the contact's data
    when sent) to ``contact`` on ``channel``; the send task is queued when the
    transaction commits. ``label`` says who asked, for operators. Raise SendRefused
    when it may not be sent."""
    body = body.strip()
    problems = text_check(body, where="The message").errors
    if problems:
        raise SendRefused(problems[0])
    with transaction.atomic():
        # Read again under lock: an opt-out committing now counts (the send checks
        # again just before it goes, too).
        contact = Contact.objects.select_for_update().get(pk=contact.pk)
        channel = Channel.objects.get(pk=channel.pk)
        refusal = send_refusal(contact=contact, channel=channel)
        if refusal:
            raise SendRefused(refusal)
        batch = batch_open(
            name=f"{label}: message to {contact}",
            templates={
                str(STEP): {"body": body, "media_url": media_url, "label": label}
            },
            tags={"transactional": True},
        )
        message = Message.objects.create(
            batch=batch,
            contact=contact,
            step=STEP,
            channel=channel,
            # As messages_write leases them: the sweeper queues it again if the
            # broker loses its task.
            lease_until=now + dt.timedelta(seconds=settings.MESSAGING_LEASE_SECONDS),
        )
        send_range_on_commit(batch_id=batch.pk, low=message.pk, high=message.pk)
    return message
