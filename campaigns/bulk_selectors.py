"""Reads of bulk messages for the console: where each stands, what it says, and its
messages counted, for one message or a page of them in a few queries."""

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db import models
from django.db.models import Exists, OuterRef, QuerySet

from audiences.targeting import Condition
from messaging.models import Channel, Message
from messaging.outbox import unsent_count

from .bulk import BulkMessage
from .models import Campaign, CampaignRun, CampaignStatus
from .monitoring import counts_by_run

# The start of a message sent as soon as possible is at most this long after it
# was saved (bulk_send_time: the next whole minute, 5 seconds ahead).
ASAP_WITHIN = dt.timedelta(seconds=125)


class BulkStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    SUSPENDED = "suspended", "Suspended"
    CANCELLED = "cancelled", "Cancelled"


def bulk_messages_annotated(queryset: QuerySet[Campaign]) -> QuerySet[Campaign]:
    """``queryset`` with whether each has a run and a run still sending, read by
    bulk_status without a query per row."""
    runs = CampaignRun.objects.filter(campaign=OuterRef("pk"))
    return queryset.annotate(
        _has_runs=Exists(runs),
        _running=Exists(runs.filter(status=CampaignRun.Status.RUNNING)),
    )


def bulk_status(
    campaign: Campaign,
    counted: "BulkCounts | None" = None,
    *,
    all_sent: bool | None = None,
) -> BulkStatus:
    """Scheduled until it starts; sending while its run sends; sent once it has
    (``counted``: its messages counted, none left to send, though the run is not
    closed yet; or ``all_sent``: bulk_all_sent); cancelled when finished before it
    started."""
    if all_sent is None and counted is not None:
        all_sent = bool(counted.total and not counted.to_send)
    has_runs = getattr(campaign, "_has_runs", None)
    if has_runs is None:
        has_runs = campaign.runs.exists()
    running = getattr(campaign, "_running", None)
    if running is None:
        running = campaign.runs.filter(status=CampaignRun.Status.RUNNING).exists()
    if campaign.status == CampaignStatus.ENDED and not has_runs:
        return BulkStatus.CANCELLED
    if campaign.status == CampaignStatus.SUSPENDED:
        return BulkStatus.SUSPENDED
    if campaign.status == CampaignStatus.PENDING and not has_runs:
        return BulkStatus.SCHEDULED
    if running and all_sent:
        return BulkStatus.SENT
    if running or not has_runs:
        return BulkStatus.SENDING
    return BulkStatus.SENT


def bulk_batch_ids(campaign: Campaign) -> list[int]:
    """The batches that hold the bulk message's messages (its runs')."""
    return list(
        CampaignRun.objects.filter(campaign=campaign, cohort__isnull=False)
        .order_by("pk")
        .values_list("cohort__batch_id", flat=True)
    )


def bulk_all_sent(campaign: Campaign) -> bool:
    """Whether the bulk message's messages are written and none is left to send:
    two probes of the messages' (batch, status, id) index, where counting them read
    a million rows."""
    batches = bulk_batch_ids(campaign)
    written = Message.objects.filter(batch_id__in=batches).exists()
    return written and not unsent_count(batch_ids=batches, cap=0)


def bulk_as_soon_as_possible(campaign: Campaign) -> bool:
    """Whether it was composed to go as soon as possible: its start is the next
    whole minute after it was saved (bulk_send_time), not a time set."""
    return campaign.send_at_local is None and (
        campaign.start_at - campaign.created_at <= ASAP_WITHIN
    )


def bulk_message_of(campaign: Campaign) -> BulkMessage:
    """The bulk message a campaign of schedule "once" sends, as composed: its text,
    image and channel are those of its flow's published version."""
    steps = campaign.flow_version.steps if campaign.flow_version else []
    step = steps[0] if steps else {}
    in_contact_zone = campaign.send_at_local is not None
    return BulkMessage(
        name=campaign.name,
        description=campaign.description,
        group=campaign.group,
        channel=Channel.objects.get(pk=step.get("channel_id") or 0),
        body=step.get("body") or "",
        media_url=step.get("media_url") or "",
        sender_name=campaign.sender_name,
        reply_to=campaign.reply_to,
        language=campaign.language,
        reply_team=campaign.reply_team,
        reply_user=campaign.reply_user,
        send_at=None
        if bulk_as_soon_as_possible(campaign)
        else campaign.send_at_local or campaign.start_at,
        in_contact_zone=in_contact_zone,
        also_groups=list(campaign.also_groups.all()),
        excluded_groups=list(campaign.excluded_groups.all()),
        rules=[Condition(r.field, r.op, r.value) for r in campaign.rules.all()],
        match=campaign.match,
    )


@dataclass
class BulkCounts:
    """A bulk message's messages by status (monitoring.STATUSES), its recipients
    and the batches that hold its messages."""

    counts: Counter[str] = field(default_factory=Counter)
    recipients: int | None = None
    batch_ids: list[int] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def to_send(self) -> int:
        return sum(self.counts[status] for status in ("queued", "deferred", "sending"))

    @property
    def sent(self) -> int:
        return self.counts["sent"] + self.counts["delivered"]

    @property
    def failed(self) -> int:
        return self.counts["failed"]


def bulk_counts(campaigns: Sequence[Campaign]) -> dict[int, BulkCounts]:
    """Each campaign's messages counted, in a few queries for the whole page."""
    found = {campaign.pk: BulkCounts() for campaign in campaigns}
    runs = list(
        CampaignRun.objects.filter(campaign_id__in=list(found)).select_related("cohort")
    )
    for row in counts_by_run(runs):
        counted = found[row.run.campaign_id]
        counted.counts.update(row.counts)
        counted.recipients = (counted.recipients or 0) + row.run.recipients
        if row.run.cohort is not None and row.run.cohort.batch_id is not None:
            counted.batch_ids.append(row.run.cohort.batch_id)
    return found


def channel_names(campaigns: Sequence[Campaign]) -> dict[int, str]:
    """The channel each bulk message goes out on, by campaign, in one query."""
    wanted = {}
    for campaign in campaigns:
        steps = campaign.flow_version.steps if campaign.flow_version else []
        if steps:
            wanted[campaign.pk] = steps[0].get("channel_id")
    names = dict(
        Channel.objects.filter(pk__in=set(wanted.values())).values_list("pk", "name")
    )
    return {pk: names.get(channel_id, "—") for pk, channel_id in wanted.items()}
