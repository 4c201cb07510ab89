"""The inbox: replies gathered into conversations, assigned to the operator and team
a batch's replies are sent to, and closed or reopened by operators.

A reply continues the open conversation of its contact (or, for a sender who is no
contact, of its address) on its channel; otherwise it opens one for the reply-to
team and operator of the batch of the last message sent to that contact on that
channel. Each status change is a conditional update, recorded in the audit trail.
"""

import datetime as dt

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import Q

from base.audit import audit_record

from .models import Batch, Conversation, InboundMessage, Message, Team

TEXT_SHOWN = 200


class ConversationRefused(Exception):
    """A change the conversation's state does not allow; the message says why."""


def _open_for(inbound: InboundMessage) -> Conversation | None:
    found = Conversation.objects.filter(
        channel_id=inbound.channel_id, status=Conversation.Status.OPEN
    )
    if inbound.contact_id is not None:
        return found.filter(contact_id=inbound.contact_id).first()
    return (
        found.filter(contact__isnull=True, sender=inbound.sender)
        .order_by("-id")
        .first()
    )


def reply_to_of(*, contact_id: int | None, channel_id: int) -> Batch | None:
    """The batch of the last message sent to the contact on the channel, which says
    whom its replies go to; None when nothing was sent to them there."""
    if contact_id is None:
        return None
    last = (
        Message.objects.filter(
            contact_id=contact_id, channel_id=channel_id, sent_at__isnull=False
        )
        .order_by("-sent_at", "-id")
        .values_list("batch_id", flat=True)
        .first()
    )
    if last is None:
        return None
    # Messages point to their batch without a database constraint.
    return (
        Batch.objects.select_related("reply_team", "reply_user").filter(pk=last).first()
    )


def conversation_take(*, inbound: InboundMessage, now: dt.datetime) -> Conversation:
    """Put the reply ``inbound`` in its conversation, opened if none is open, and
    return it."""
    text = " ".join(inbound.body.split())[:TEXT_SHOWN]
    conversation = _open_for(inbound)
    if conversation is None:
        batch = reply_to_of(
            contact_id=inbound.contact_id, channel_id=inbound.channel_id
        )
        try:
            with transaction.atomic():
                conversation = Conversation.objects.create(
                    contact_id=inbound.contact_id,
                    channel_id=inbound.channel_id,
                    sender=inbound.sender,
                    team=batch.reply_team if batch else None,
                    assignee=batch.reply_user if batch else None,
                    opened_at=now,
                    last_message_at=now,
                    last_reply_at=now,
                    last_text=text,
                )
        except IntegrityError:
            # Another reply of the contact (or of the same unknown sender) opened
            # it a moment ago.
            conversation = _open_for(inbound)
            if conversation is None:
                raise
    if conversation.last_reply_at != now:
        Conversation.objects.filter(pk=conversation.pk).update(
            last_message_at=now, last_reply_at=now, last_text=text
        )
        conversation.last_message_at = conversation.last_reply_at = now
        conversation.last_text = text
    InboundMessage.objects.filter(pk=inbound.pk).update(conversation=conversation)
    inbound.conversation = conversation
    return conversation


def conversation_close(
    *, conversation: Conversation, by: User | None, now: dt.datetime
) -> None:
    """Close the conversation: a later reply of the contact opens a new one."""
    closed = Conversation.objects.filter(
        pk=conversation.pk, status=Conversation.Status.OPEN
    ).update(status=Conversation.Status.CLOSED, closed_at=now, closed_by=by)
    if not closed:
        raise ConversationRefused(f"{conversation} is closed already.")
    audit_record(
        action="status",
        target=conversation,
        changes={"status": ["open", "closed"]},
        actor=by,
    )
    conversation.refresh_from_db()


def conversation_reopen(*, conversation: Conversation, by: User | None) -> None:
    """Open a closed conversation again, unless a newer one with the contact is
    open on the channel (answer there)."""
    try:
        with transaction.atomic():
            reopened = Conversation.objects.filter(
                pk=conversation.pk, status=Conversation.Status.CLOSED
            ).update(status=Conversation.Status.OPEN, closed_at=None, closed_by=None)
    except IntegrityError:
        open_ones = Conversation.objects.filter(
            channel_id=conversation.channel_id,
            contact=conversation.contact,
            status=Conversation.Status.OPEN,
        )
        if conversation.contact_id is None:
            open_ones = open_ones.filter(sender=conversation.sender)
        newer = open_ones.first()
        raise ConversationRefused(
            f"{conversation} cannot be reopened: {newer or 'a newer conversation'} "
            "with the same contact on this channel is open; continue there."
        ) from None
    if not reopened:
        raise ConversationRefused(f"{conversation} is open already.")
    audit_record(
        action="status",
        target=conversation,
        changes={"status": ["closed", "open"]},
        actor=by,
    )
    conversation.refresh_from_db()


def conversation_assign(
    *, conversation: Conversation, to: User | None, by: User | None
) -> None:
    """Assign the conversation to operator ``to`` (None: to nobody)."""
    before = conversation.assignee
    Conversation.objects.filter(pk=conversation.pk).update(assignee=to)
    conversation.assignee = to
    if before != to:
        audit_record(
            action="change",
            target=conversation,
            changes={"assignee": [str(before or ""), str(to or "")]},
            actor=by,
        )


# The inbox's lists: whose conversations an operator sees.
WHOSE = {
    "inbox": "Mine, my teams' and unassigned",
    "mine": "Assigned to me",
    "teams": "My teams'",
    "all": "Everyone's",
}


def whose_filter(*, user: User, whose: str) -> Q:
    """Which conversations ``whose`` (a key of WHOSE) means for ``user``."""
    mine = Q(assignee=user)
    teams = Q(team__in=Team.objects.filter(members=user))
    if whose == "mine":
        return mine
    if whose == "teams":
        return teams
    if whose == "all":
        return Q()
    return mine | teams | Q(assignee__isnull=True, team__isnull=True)
