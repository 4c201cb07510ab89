"""What providers report back: delivery receipts and replies.

A receipt only moves a message forward (sent → delivered, sent → failed): a late
"sent" after "delivered" changes nothing, and a repeated receipt is harmless. A receipt
for a message a worker is still recording is kept on the row and applied when the send
is recorded (messaging.recording). A reply that is one of its channel's keywords
(STOP, START, HELP: messaging.keywords) acts at once; a STOP skips the messages
still waiting for its sender's number.
"""

import datetime as dt
import logging
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from audiences.consent import contact_mark_opted_out
from audiences.models import Contact
from audiences.phones import normalize_phone

from .backends import Bounce
from .bounces import receipt_bounce
from .inbound import reply_takers
from .inbox import conversation_take
from .keywords import HELP, START, STOP, keyword_of, reply_help, reply_start, reply_stop
from .models import Channel, Conversation, InboundMessage, Message
from .streaming import messages_status_emit, reply_emit

logger = logging.getLogger(__name__)

# Provider words for a message's state, and what each means here; None: no change.
PROVIDER_STATUSES: dict[str, str | None] = {
    "accepted": None,
    "queued": None,
    "scheduled": None,
    "sending": None,
    "sent": Message.Status.SENT,
    "delivered": Message.Status.DELIVERED,
    "read": Message.Status.DELIVERED,
    "undelivered": Message.Status.FAILED,
    "failed": Message.Status.FAILED,
}
# Which states each receipt may move a message from.
MOVES_FROM: dict[str, tuple[str, ...]] = {
    Message.Status.DELIVERED: (Message.Status.SENT,),
    Message.Status.FAILED: (Message.Status.SENT,),
    Message.Status.SENT: (),
}


def messages_record_receipt(
    *,
    channel: Channel,
    message_id: int,
    status: str,
    error: str = "",
    bounce: Bounce | None = None,
) -> str:
    """Apply a provider's report on one message; return what happened, in words. A
    failure's ``bounce`` (a number the carrier says is dead) suppresses it."""
    new = PROVIDER_STATUSES.get(status.strip().lower())
    if new is None:
        return "ignored"
    mine = Message.objects.filter(pk=message_id, channel=channel)
    fields: dict[str, object] = {"status": new}
    if new == Message.Status.FAILED:
        error = error or "the provider reported it undelivered"
        if bounce is not None:
            error = receipt_bounce(
                bounce, channel=channel, message_id=message_id, error=error
            )
        fields["error"] = error[:2000]
    if _move(mine, message_id, new, fields):
        return f"now {new}"
    held = mine.filter(
        status__in=(Message.Status.QUEUED, Message.Status.DEFERRED),
        claim_token__isnull=False,
    )
    if held.update(reported_status=new):
        # Its event is emitted when the send is recorded (messaging.recording).
        return "kept until the send is recorded"
    # The worker may have recorded the send between the two updates above.
    if _move(mine, message_id, new, fields):
        return f"now {new}"
    return "no change"


def _move(
    mine: QuerySet[Message], message_id: int, new: str, fields: dict[str, object]
) -> bool:
    """Move the message to ``new`` if it may go there, with its event."""
    with transaction.atomic():
        moved = mine.filter(status__in=MOVES_FROM[new]).update(**fields)
        if moved:
            messages_status_emit(message_ids=[message_id], status=new)
    return bool(moved)


@dataclass
class Reply:
    inbound: InboundMessage
    skipped: int = 0
    taken_by_flow: bool = False
    conversation: Conversation | None = None


def reply_record(
    *,
    channel: Channel,
    sender: str,
    body: str,
    provider_id: str = "",
    now: dt.datetime | None = None,
) -> Reply | None:
    """Store a reply. A keyword of the channel's (messaging.keywords) acts: STOP
    suppresses the sender's address, START takes a STOP back, HELP is answered.
    Any other reply is handed to the flows waiting for it
    (messaging.inbound.reply_takers) and, if none took it, put in its inbox
    conversation. None for a reply already stored (providers retry their
    webhooks)."""
    now = now or timezone.now()
    address = sender.removeprefix("whatsapp:").strip()
    contact = None
    phone = ""
    try:
        phone = normalize_phone(address)
        contact = Contact.objects.filter(phone=phone).first()
    except Exception:  # an email address or a short code: no contact by phone
        contact = (
            Contact.objects.filter(email__iexact=address).first()
            if "@" in address
            else None
        )
    keyword = keyword_of(channel, body)
    # Webhook channels reach no address: STOP opts the contact out of everything.
    stop = keyword == STOP and (contact is not None or channel.address_kind != "")
    try:
        with transaction.atomic():
            inbound = InboundMessage.objects.create(
                channel=channel,
                contact=contact,
                sender=address[:254],
                body=body,
                provider_id=provider_id[:200],
                opted_out=stop,
                keyword=keyword,
                received_at=now,
            )
            reply_emit(inbound=inbound)
    except IntegrityError:
        return None
    reply = Reply(inbound)
    source = f"replied {body.strip()[:40]!r} on {channel.name}"
    # The number as the list keys it; an email channel's sender as it came.
    address = phone or address
    if stop and channel.address_kind:
        reply.skipped = reply_stop(channel=channel, address=address, source=source)
    elif stop and contact is not None:
        reply.skipped = contact_opt_out(contact=contact, source=source)
    elif keyword == START:
        reply_start(channel=channel, address=address, contact=contact, source=source)
    elif keyword == HELP:
        reply_help(channel=channel, contact=contact, now=now)
    elif contact is not None:
        reply.taken_by_flow = _hand_to_flows(inbound, now)
    if not keyword and not reply.taken_by_flow:
        reply.conversation = conversation_take(inbound=inbound, now=now)
    return reply


def _hand_to_flows(inbound: InboundMessage, now: dt.datetime) -> bool:
    """Give the reply to every flow waiting for it; whether one took it."""
    taken = False
    for taker in reply_takers:
        # The reply is stored: a taker that fails must not fail the provider's
        # webhook, whose retry would be dropped as a reply already stored and so
        # never reach the flows at all. It stays for the inbox, logged. (Takers
        # keep their own transactions: a flow's are one per journey.)
        try:
            taken = taker(inbound, now) or taken
        except Exception:
            logger.exception("reply %s: %r could not take it", inbound.pk, taker)
    if taken:
        InboundMessage.objects.filter(pk=inbound.pk).update(taken_by_flow=True)
        inbound.taken_by_flow = True
    return taken


def contact_opt_out(*, contact: Contact, source: str) -> int:
    """Opt the contact out now (the first opt-out time is kept) and skip the messages
    still waiting for it; return how many were skipped. Messages a worker holds are
    checked again by it."""
    with transaction.atomic():
        contact_mark_opted_out(contact=contact, source=source)
        skipped = Message.objects.filter(
            contact=contact,
            status__in=(Message.Status.QUEUED, Message.Status.DEFERRED),
            claim_token__isnull=True,
        ).update(status=Message.Status.SKIPPED, error="opted out", lease_until=None)
    logger.info(
        "contact %s opted out (%s); %d waiting messages skipped",
        contact.pk,
        source,
        skipped,
    )
    return skipped
