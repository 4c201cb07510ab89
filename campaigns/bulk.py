"""Bulk messages: one message to a whole group, sent once, now or at a set time.
Composed in one form; underneath it is a campaign of schedule "once" on a one-step
flow, so it is delivered, monitored and searched like any campaign."""

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from audiences.models import AudienceGroup, Contact
from base.audit import audit_record
from base.models import AuditEntry
from flows.publishing import FlowRefused, flow_publish_one_send
from messaging.models import Channel
from messaging.rendering import render, unfilled

from .lifecycle import Actor, CampaignRefused, campaign_create, campaign_end
from .models import Campaign, CampaignRun, CampaignStatus, Schedule

# A bulk message is sent once; its campaign ends by itself once its run is over
# (bulk_messages_close), at the latest this long after (retries, active
# hours).
OPEN_FOR = dt.timedelta(days=3)


@dataclass
class BulkMessage:
    name: str
    group: AudienceGroup
    channel: Channel
    body: str
    media_url: str = ""
    sender_name: str = ""
    reply_to: str = ""
    description: str = ""
    send_at: dt.datetime | None = None  # None: as soon as possible


@dataclass
class BulkPreview:
    """A bulk message as its first recipient will see it, whom it goes to, and what
    its text lacks for that recipient (``notes``)."""

    recipients: str
    sender: str
    channel: str
    text: str
    media_url: str
    contact: Contact | str
    reply_to: str
    notes: list[str]


def bulk_send_time(
    send_at: dt.datetime | None, now: dt.datetime | None = None
) -> dt.datetime:
    """When the message goes: the set time, or the next whole minute (schedules
    fire on whole minutes)."""
    now = now or timezone.now()
    if send_at is not None:
        return send_at
    # At least a few seconds ahead, so the start is still later than now when saved.
    return (now + dt.timedelta(seconds=65)).replace(second=0, microsecond=0)


def bulk_message_create(*, message: BulkMessage, actor: Actor = None) -> Campaign:
    """Compose the flow, publish it and schedule the campaign, or change nothing."""
    start = bulk_send_time(message.send_at)
    with transaction.atomic():
        try:
            flow = flow_publish_one_send(
                name=f"Bulk: {message.name}",
                description="The message of a bulk send.",
                channel=message.channel,
                body=message.body,
                media_url=message.media_url,
                actor=actor,
            )
        except FlowRefused as exc:
            raise CampaignRefused(str(exc)) from None
        campaign = campaign_create(
            actor=actor,
            name=message.name,
            description=message.description,
            flow=flow,
            group=message.group,
            start_at=start,
            end_at=start + OPEN_FOR,
            schedule=Schedule.ONCE,
            sender_name=message.sender_name,
            reply_to=message.reply_to,
        )
        # The trail's "Bulk message" action: what went to whom, when, on what.
        audit_record(
            action=AuditEntry.Action.SEND,
            target=campaign,
            actor=actor,
            note=(
                f"to {message.group} on {message.channel} at "
                f"{timezone.localtime(start):%Y-%m-%d %H:%M %Z}: {message.body}"
            ),
        )
        return campaign


def bulk_message_preview(*, message: BulkMessage) -> BulkPreview:
    """The message as its first recipient will see it, how many contacts it goes to
    and skips (opted out), and the placeholders it leaves empty for that recipient."""
    members = message.group.members()
    contact = members.order_by("pk").first()
    notes = []
    if contact is None:
        notes.append(f"{message.group.name} has no contacts yet.")
    missing = unfilled(message.body, contact) if contact is not None else []
    if missing:
        notes.append(f"{contact} has no value for {', '.join(missing)}: sent empty.")
    total = members.count()
    opted_out = members.filter(opted_out_at__isnull=False).count() if total else 0
    recipients = f"Goes to {total - opted_out:,} contacts of {message.group.name}"
    if opted_out:
        recipients += f", skipping {opted_out:,} who opted out"
    return BulkPreview(
        recipients=recipients + ".",
        sender=message.sender_name or message.channel.name,
        channel=message.channel.get_kind_display(),
        text=render(message.body, contact) if contact else message.body,
        media_url=message.media_url,
        contact=contact or "no contact",
        reply_to=message.reply_to,
        notes=notes,
    )


def bulk_messages_close() -> int:
    """End the bulk messages (campaigns run once) whose run is over: sent, with
    nothing left to send. They stayed in progress until their end time, days later,
    listed with the running campaigns. Return how many ended."""
    ended = 0
    sent = (
        Campaign.objects.filter(
            status=CampaignStatus.IN_PROGRESS,
            schedule=Schedule.ONCE,
            runs__isnull=False,
        )
        .exclude(runs__status=CampaignRun.Status.RUNNING)
        .distinct()
    )
    for campaign in sent:
        try:
            campaign_end(
                campaign=campaign,
                note="the bulk message went out: nothing left to send",
                only_if=Q(status=CampaignStatus.IN_PROGRESS),
                on_demand=False,
            )
        except CampaignRefused:
            continue
        ended += 1
    return ended
