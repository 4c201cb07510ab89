"""A campaign's status changes and its runs (imported in campaigns.models, where
Django finds them)."""

import datetime as dt

from django.conf import settings
from django.db import models

from .statuses import CampaignStatus


class CampaignEvent(models.Model):
    """One row per status change: who, when, from what to what, and why."""

    campaign = models.ForeignKey(
        "campaigns.Campaign", on_delete=models.CASCADE, related_name="events"
    )
    from_status = models.CharField(max_length=12, choices=CampaignStatus.choices)
    to_status = models.CharField(max_length=12, choices=CampaignStatus.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Empty when the schedule made the change.",
    )
    note = models.CharField(max_length=255, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return (
            f"{self.campaign}: {self.get_from_status_display()} → "
            f"{self.get_to_status_display()}"
        )


class CampaignRun(models.Model):
    """One tick of a campaign: the flow sent once to the whole group."""

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        SKIPPED = "skipped", "Skipped (the previous run was still sending)"
        DONE = "done", "Done"
        CANCELLED = "cancelled", "Cancelled (the campaign was finished)"

    campaign = models.ForeignKey(
        "campaigns.Campaign", on_delete=models.CASCADE, related_name="runs"
    )
    scheduled_for = models.DateTimeField(
        help_text="The schedule slot this run belongs to; one run per slot."
    )
    flow_version = models.ForeignKey(
        "flows.FlowVersion", on_delete=models.PROTECT, related_name="runs"
    )
    cohort = models.OneToOneField(
        "flows.Cohort",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="run",
        help_text="The journeys of the group on the flow, and through them the "
        "messages' batch; none for a skipped run.",
    )
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.RUNNING, editable=False
    )
    recipients = models.PositiveIntegerField(
        default=0, help_text="Contacts of the group when the run started."
    )
    messages_created = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(
        default=0, help_text="Contacts left out because they opted out."
    )
    note = models.CharField(max_length=255, blank=True)
    counts = models.JSONField(
        default=dict,
        blank=True,
        editable=False,
        help_text="Messages of this run by status, as last counted (see "
        "campaigns.counting); reports of big runs read these instead of counting "
        "millions of rows.",
    )
    counted_at = models.DateTimeField(null=True, blank=True, editable=False)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(
        "finished sending",
        null=True,
        blank=True,
        editable=False,
        help_text="When its last message went out, as read when the run was done: "
        "it took from its start to this. Empty while it sends, and for a skipped "
        "run.",
    )
    # Written by campaigns.stalls alone, once a minute while the run runs.
    progress_mark = models.PositiveBigIntegerField(
        default=0,
        editable=False,
        help_text="Its messages done (sent, failed, skipped, cancelled) when it was "
        "last seen to move.",
    )
    progress_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="When it was last seen to move, or when the messages it waits for "
        "(active hours) fall due; empty: its start.",
    )
    stalled_since = models.DateTimeField(
        "not moving since",
        null=True,
        blank=True,
        editable=False,
        help_text="Set while it has messages due and has not moved for "
        "CAMPAIGNS_STALL_MINUTES: since when nothing of it went out.",
    )
    stall_due = models.PositiveIntegerField(
        "messages due while not moving",
        default=0,
        editable=False,
        help_text="Its messages due to go out, as last counted while not moving.",
    )
    stall_alerted_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="When operators were told it was not moving (once per stall).",
    )

    class Meta:
        ordering = ["-scheduled_for"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "scheduled_for"], name="campaignrun_once_per_slot"
            ),
        ]
        indexes = [
            # The dashboard's runs not moving: few, looked for on every visit.
            models.Index(
                fields=["stalled_since"],
                name="campaignrun_stalled_idx",
                condition=models.Q(stalled_since__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.campaign} @ {self.scheduled_for:%Y-%m-%d %H:%M}"

    @property
    def skip_reason(self) -> str:
        """Why a skipped run was skipped, from its note; "" for other runs."""
        if self.status != self.Status.SKIPPED:
            return ""
        return (
            self.note.removeprefix("skipped: ") or "the previous run was still sending"
        )

    @property
    def duration(self) -> dt.timedelta | None:
        """How long it took to send, once done; None before, or for a skipped run."""
        if self.finished_at is None:
            return None
        return max(self.finished_at - self.started_at, dt.timedelta(0))

    @property
    def pruned_counts(self) -> dict[str, int]:
        """Its messages deleted after the retention period, by status (kept on
        their batch)."""
        return self.cohort.batch.pruned_counts if self.cohort is not None else {}
