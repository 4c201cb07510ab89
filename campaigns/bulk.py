"""Bulk messages: one message to a whole group, sent once, now or at a set time.
Composed in one form; underneath it is a campaign of schedule "once" on a one-step
flow, so it is delivered, monitored and searched like any campaign."""

import datetime as dt
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from audiences.models import AudienceGroup, Contact, ContactQuerySet
from audiences.rules import RuleError
from audiences.targeting import Condition, audience_count, audience_select
from base.audit import audit_record
from base.models import AuditEntry
from flows.models import Flow
from flows.publishing import FlowRefused, flow_publish_one_send
from messaging.models import Channel, Team, default_timezone
from messaging.rendering import render, unfilled
from messaging.unsubscribing import LANGUAGE_DEFAULT

from .lifecycle import (
    Actor,
    CampaignRefused,
    campaign_create,
    campaign_end,
    campaign_update,
)
from .models import Campaign, CampaignRun, CampaignStatus, Schedule
from .targeting import audience_capped_text

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
    language: str = LANGUAGE_DEFAULT  # of the unsubscribe line and page (email)
    reply_team: Team | None = None
    reply_user: User | None = None
    description: str = ""
    send_at: dt.datetime | None = None  # None: as soon as possible
    # send_at's time of day in each contact's own zone (audiences.zones), in the
    # installation's zone for contacts without one.
    in_contact_zone: bool = False
    also_groups: list[AudienceGroup] = field(default_factory=list)
    excluded_groups: list[AudienceGroup] = field(default_factory=list)
    rules: list[Condition] = field(default_factory=list)
    match: str = AudienceGroup.Match.ALL

    def audience(self) -> ContactQuerySet:
        """Its recipients, opted out or not, each once (campaigns.targeting)."""
        return audience_select(
            groups=[self.group, *self.also_groups],
            excluded=self.excluded_groups,
            rules=self.rules,
            match=self.match,
        )

    @property
    def targets(self) -> str:
        """Its groups and conditions in a few words: "A + B − C, any of 2
        conditions"."""
        return targets_text(
            [self.group, *self.also_groups],
            self.excluded_groups,
            self.rules,
            self.match,
        )


def targets_text(
    groups: list[AudienceGroup],
    excluded: list[AudienceGroup],
    rules: list[Any],
    match: str,
) -> str:
    """Groups and conditions in a few words: "A + B − C, any of 2 conditions"."""
    text = " + ".join(g.name for g in groups)
    text += "".join(f" − {g.name}" for g in excluded)
    if len(rules) == 1:
        text += f", if {rules[0]}"
    elif rules:
        text += f", {match} of {len(rules)} conditions"
    return text


@dataclass
class BulkPreview:
    """A bulk message as its first recipient will see it, whom it goes to, and what
    its text lacks for that recipient (``notes``)."""

    recipients: str  # "Goes to 12,408 contacts; 312 opted out are skipped."
    targets: str
    sender: str
    channel: str
    text: str
    media_url: str
    contact: Contact | str
    reply_to: str
    notes: list[str]
    replies_go_to: str = ""
    when: str = ""  # "09:00 in each contact's zone; contacts without one: …"


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


# The earliest and latest clocks on Earth: UTC+14 (Kiribati) and UTC−12.
EARLIEST_OFFSET = dt.timedelta(hours=14)
LATEST_OFFSET = dt.timedelta(hours=12)


@dataclass(frozen=True)
class LocalSend:
    """When a bulk message sent at one time of day in each contact's own zone runs:
    its campaign starts as the earliest zone reaches ``at`` (read in UTC+14), or
    now if that is past, and stays open until the latest (UTC−12) has had it."""

    at: dt.datetime  # the send time, for contacts without a zone of their own
    start: dt.datetime
    end: dt.datetime


def local_send(at: dt.datetime, now: dt.datetime | None = None) -> LocalSend:
    """The run of a bulk message sent at ``at``'s time of day, read in the
    installation's zone, in each contact's own zone."""
    clock = at.astimezone(ZoneInfo(default_timezone())).replace(tzinfo=None)
    as_utc = clock.replace(tzinfo=dt.UTC)
    start = max(as_utc - EARLIEST_OFFSET, bulk_send_time(None, now))
    return LocalSend(at=at, start=start, end=as_utc + LATEST_OFFSET + OPEN_FOR)


def bulk_when(message: BulkMessage) -> str:
    """When the message goes, in words."""
    if message.send_at is None:
        return "as soon as possible (within a minute)."
    zone = default_timezone()
    at = message.send_at.astimezone(ZoneInfo(zone))
    if message.in_contact_zone:
        return (
            f"{at:%Y-%m-%d %H:%M} in each contact's zone; contacts without one: "
            f"{at:%H:%M} {zone}."
        )
    return f"{at:%Y-%m-%d %H:%M} {zone}."


def _timing(
    message: BulkMessage,
) -> tuple[dt.datetime, dt.datetime, dt.datetime | None]:
    """The campaign's start and end, and its send_at_local (sent in each contact's
    zone) or None."""
    start = bulk_send_time(message.send_at)
    if not message.in_contact_zone:
        return start, start + OPEN_FOR, None
    if message.send_at is None:
        raise CampaignRefused(
            "Give a send time to send it at that time in each contact's zone."
        )
    local = local_send(message.send_at)
    return local.start, local.end, local.at


def _flow_of(message: BulkMessage, actor: Actor) -> Flow:
    try:
        return flow_publish_one_send(
            name=f"Bulk: {message.name}",
            description="The message of a bulk send.",
            channel=message.channel,
            body=message.body,
            media_url=message.media_url,
            actor=actor,
        )
    except FlowRefused as exc:
        raise CampaignRefused(str(exc)) from None


def _campaign_fields(
    message: BulkMessage, flow: Flow, start: dt.datetime, end: dt.datetime
) -> dict[str, Any]:
    """What the bulk message's campaign is made of, as campaigns.lifecycle takes it."""
    return {
        "name": message.name,
        "description": message.description,
        "flow": flow,
        "group": message.group,
        "start_at": start,
        "end_at": end,
        "sender_name": message.sender_name,
        "reply_to": message.reply_to,
        "language": message.language,
        "reply_team": message.reply_team,
        "reply_user": message.reply_user,
        "also_groups": message.also_groups,
        "excluded_groups": message.excluded_groups,
        "rules": message.rules,
        "match": message.match,
    }


def bulk_message_create(*, message: BulkMessage, actor: Actor = None) -> Campaign:
    """Compose the flow, publish it and schedule the campaign, or change nothing.
    Sent in each contact's zone, the campaign starts early enough for the earliest
    zone and each message waits for its own (Campaign.send_at_local)."""
    start, end, send_at_local = _timing(message)
    with transaction.atomic():
        flow = _flow_of(message, actor)
        campaign = campaign_create(
            actor=actor,
            schedule=Schedule.ONCE,
            send_at_local=send_at_local,
            **_campaign_fields(message, flow, start, end),
        )
        # The trail's "Bulk message" action: what went to whom, when, on what.
        audit_record(
            action=AuditEntry.Action.SEND,
            target=campaign,
            actor=actor,
            note=(
                f"to {message.targets} on {message.channel} at "
                f"{_at(message, start)}: {message.body}"
            ),
        )
        return campaign


def bulk_locked_reason(campaign: Campaign) -> str | None:
    """Why a bulk message can no longer be changed, or None while it is scheduled:
    once its run has opened (sent or sending), or once it was cancelled."""
    if campaign.is_sent_bulk(fresh=True):
        return (
            f"Bulk message {campaign.name!r} has been sent; a sent message is "
            "locked and cannot be changed."
        )
    if campaign.status == CampaignStatus.IN_PROGRESS:
        return (
            f"Bulk message {campaign.name!r} is being sent; a message on its way is "
            "locked and cannot be changed."
        )
    if campaign.status == CampaignStatus.ENDED:
        return (
            f"Bulk message {campaign.name!r} was cancelled; compose a new one to "
            "send it."
        )
    return None


def bulk_message_update(
    *, campaign: Campaign, message: BulkMessage, actor: Actor = None
) -> Campaign:
    """Change a scheduled bulk message to ``message``, or change nothing: refused
    (CampaignRefused, bulk_locked_reason) once it is sent, sending or cancelled. A
    changed text, image or channel is published as a new one-step flow."""
    start, end, send_at_local = _timing(message)
    with transaction.atomic():
        locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
        refusal = bulk_locked_reason(locked)
        if refusal is not None:
            raise CampaignRefused(refusal)
        step = locked.flow_version.steps[0] if locked.flow_version else {}
        same = (
            step.get("channel_id") == message.channel.pk
            and step.get("body") == message.body
            and (step.get("media_url") or "") == message.media_url
        )
        flow = locked.flow if same else _flow_of(message, actor)
        updated = campaign_update(
            campaign=locked,
            actor=actor,
            **_campaign_fields(message, flow, start, end),
        )
        Campaign.objects.filter(pk=campaign.pk).update(send_at_local=send_at_local)
        updated.send_at_local = send_at_local
        return updated


def bulk_message_preview(*, message: BulkMessage, count: bool = True) -> BulkPreview:
    """The message as its first recipient will see it, how many contacts it goes to
    and skips (opted out), and the placeholders it leaves empty for that recipient.
    Without ``count``, its recipients are left "" (counting a million contacts takes
    a second: a page shows them once counted, campaigns.admin.monitor)."""
    notes = []
    readable = True
    counted = None
    try:
        members = message.audience()
        contact = members.order_by("pk").first()
        if count:
            counted = audience_count(members)
    except RuleError as exc:  # a dynamic group's rule gone bad since it was saved
        contact, readable = None, False
        notes.append(f"The groups cannot be read: {exc.message}")
    if contact is None and readable:
        notes.append(f"No contact is in {message.targets}.")
    missing = unfilled(message.body, contact) if contact is not None else []
    if missing:
        notes.append(f"{contact} has no value for {', '.join(missing)}: sent empty.")
    recipients = str(counted) if counted else ""
    if counted is not None:
        recipients += audience_capped_text(
            members, channel_ids={message.channel.pk}, reachable=counted.reachable
        )
    return BulkPreview(
        recipients=recipients,
        targets=message.targets,
        sender=message.sender_name or message.channel.name,
        channel=message.channel.get_kind_display(),
        text=render(message.body, contact) if contact else message.body,
        media_url=message.media_url,
        contact=contact or "no contact",
        reply_to=message.reply_to,
        notes=notes,
        replies_go_to=replies_go_to(message.reply_team, message.reply_user),
        when=bulk_when(message),
    )


def _at(message: BulkMessage, start: dt.datetime) -> str:
    if message.in_contact_zone:
        return bulk_when(message).rstrip(".")
    return f"{timezone.localtime(start):%Y-%m-%d %H:%M %Z}"


def replies_go_to(team: Team | None, user: User | None) -> str:
    """Where replies no flow takes go, in words."""
    parts = [f"team {team.name}" if team else "", user.get_username() if user else ""]
    named = " and ".join(part for part in parts if part)
    return f"the inbox of {named}" if named else "the inbox, for every operator"


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
