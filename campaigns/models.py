from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from audiences.models import AudienceGroup
from base.zones import zone_normal
from messaging.models import Channel, default_timezone
from messaging.unsubscribing import LANGUAGE_DEFAULT, LANGUAGES
from messaging.windows import (
    Window,
    window_errors,
    windows_meet,
    windows_open_at,
)

from .statuses import CAMPAIGN_TRANSITIONS, CampaignStatus, Schedule

# Defined beside the targeting they describe; the app's models are all found here.
from .targets import CampaignAlsoGroup as CampaignAlsoGroup
from .targets import CampaignExcludedGroup as CampaignExcludedGroup
from .targets import CampaignRule as CampaignRule


class CampaignQuerySet(models.QuerySet["Campaign"]):
    def not_ended(self) -> "CampaignQuerySet":
        return self.exclude(status=CampaignStatus.ENDED)


class Campaign(models.Model):
    Status = CampaignStatus

    name = models.CharField(max_length=60, help_text="At most 60 characters.")
    description = models.CharField(
        max_length=90, blank=True, help_text="At most 90 characters."
    )
    flow = models.ForeignKey(
        "flows.Flow",
        on_delete=models.PROTECT,
        related_name="campaigns",
        help_text="A published flow whose trigger type is Manual.",
    )
    flow_version = models.ForeignKey(
        "flows.FlowVersion",
        on_delete=models.PROTECT,
        related_name="campaigns",
        editable=False,
        help_text="The published version of the flow this campaign sends. Fixed when "
        "the campaign is saved, so later edits of the flow change nothing it sends.",
    )
    group = models.ForeignKey(
        "audiences.AudienceGroup",
        on_delete=models.PROTECT,
        related_name="campaigns",
        verbose_name="associated group",
        help_text="The group the campaign goes to; more groups, excluded groups and "
        "conditions below narrow or widen it.",
    )
    also_groups = models.ManyToManyField(
        "audiences.AudienceGroup",
        through="campaigns.CampaignAlsoGroup",
        related_name="+",
        blank=True,
        verbose_name="also to groups",
        help_text="More groups whose contacts get it too; a contact in several "
        "groups gets it once.",
    )
    excluded_groups = models.ManyToManyField(
        "audiences.AudienceGroup",
        through="campaigns.CampaignExcludedGroup",
        related_name="+",
        blank=True,
        verbose_name="except groups",
        help_text="Contacts of these groups get nothing, even when in a group above.",
    )
    match = models.CharField(
        "contacts must meet",
        max_length=3,
        choices=AudienceGroup.Match.choices,
        default=AudienceGroup.Match.ALL,
        help_text="With conditions: whether a contact must meet all of them or any "
        "one. Without conditions every contact of the groups is sent to.",
    )
    start_at = models.DateTimeField(
        "start",
        help_text="The campaign starts by itself at this time (to the minute); it "
        "must be later than now.",
    )
    end_at = models.DateTimeField(
        "end",
        help_text="The campaign ends by itself at this time; later than the start.",
    )
    schedule = models.CharField(
        "execution plan",
        max_length=10,
        choices=Schedule.choices,
        default=Schedule.DAILY,
        help_text="How often, while in progress, the flow runs for the whole group: "
        "every minute, every hour or every day, counted from the start time.",
    )
    sender_name = models.CharField(
        max_length=60,
        blank=True,
        help_text="The name recipients see as the sender, where the channel shows one "
        "(email From, WhatsApp profile). Empty: the channel's own.",
    )
    reply_team = models.ForeignKey(
        "messaging.Team",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="reply message sent to team",
        help_text="When a contact replies, a conversation is created in this team's "
        "inbox (unless a flow step waits for the reply).",
    )
    reply_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        limit_choices_to={"is_staff": True, "is_active": True},
        verbose_name="reply message sent to employee",
        help_text="When a contact replies, the conversation is assigned to this "
        "operator.",
    )
    reply_to = models.EmailField(
        blank=True,
        help_text="Where replies go, for channels that have a reply address (email).",
    )
    active_from = models.TimeField(
        null=True,
        blank=True,
        help_text="Start of the daily window in which this campaign may send (e.g. "
        "08:00). Messages due outside it wait for it to open. Leave both times empty "
        "to send at any hour (the channel's own active hours still apply).",
    )
    active_until = models.TimeField(
        null=True,
        blank=True,
        help_text="End of the daily window (e.g. 21:00); earlier than the start for "
        "a window across midnight (22:00–06:00).",
    )
    timezone = models.CharField(
        "time zone",
        max_length=64,
        default=default_timezone,
        blank=True,  # the installation's zone
        help_text="Time zone of the window, e.g. America/Bogota or Etc/GMT+5 "
        "(GMT-5). Empty: the installation's.",
    )
    hours_in_contact_zone = models.BooleanField(
        "read active hours in each contact's time zone",
        default=False,
        help_text="Read the active hours above in each contact's own time zone: the "
        "contact's TIME ZONE, else the one its phone number belongs to (+52 55: "
        "Mexico City); contacts without one follow the time zone above. Messages "
        "then go out zone by zone as each zone's window opens. The channel's own "
        "active hours stay in the channel's zone.",
    )
    send_at_local = models.DateTimeField(
        "send at, in each contact's zone",
        null=True,
        blank=True,
        editable=False,
        help_text="A bulk message sent at one time of day in each contact's own "
        "zone: that time, read in the campaign's time zone (contacts without a zone "
        "of their own get it then). The campaign starts early enough for the "
        "earliest zone; each message waits for its zone's time.",
    )
    language = models.CharField(
        max_length=2,
        choices=LANGUAGES,
        default=LANGUAGE_DEFAULT,
        help_text="The language of the unsubscribe page and of the unsubscribe line "
        "at the foot of its emails.",
    )
    status = models.CharField(
        max_length=12,
        choices=CampaignStatus.choices,
        default=CampaignStatus.PENDING,
        editable=False,
    )
    periodic_task = models.OneToOneField(
        "django_celery_beat.PeriodicTask",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CampaignQuerySet.as_manager()

    class Meta:
        ordering = ["-start_at"]
        indexes = [
            models.Index(fields=["status", "end_at"], name="campaign_status_idx"),
            models.Index(fields=["name"], name="campaign_name_idx"),
        ]
        permissions = [
            ("suspend_campaign", "Can suspend campaigns"),
            ("resume_campaign", "Can resume campaigns"),
            ("end_campaign", "Can end campaigns"),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        """The rules of the campaign form (README, "How a campaign runs"); the flow
        must be a published Manual flow."""
        errors: dict[str, str] = {}
        if self.start_at is not None:
            # Schedules fire on whole minutes.
            self.start_at = self.start_at.replace(second=0, microsecond=0)
            if self.start_at <= timezone.now():
                errors["start_at"] = "The start must be later than the current time."
        if self.end_at is not None:
            self.end_at = self.end_at.replace(second=0, microsecond=0)
            if self.start_at is not None and self.end_at <= self.start_at:
                errors["end_at"] = "The end must be later than the start."
        self.timezone = zone_normal(self.timezone) or default_timezone()
        errors.update(window_errors(self.active_from, self.active_until, self.timezone))
        if self.flow_id is not None and not self.flow.can_run_in_campaign:
            errors["flow"] = (
                f"Flow {self.flow.name!r} cannot be used: a campaign needs a published "
                "flow whose trigger type is Manual."
            )
        elif self.flow_id is not None and not errors:
            errors.update(self._window_clashes())
        if errors:
            raise ValidationError(errors)

    @property
    def window(self) -> Window | None:
        """Its active hours, if it has any."""
        return Window.of(
            self.active_from,
            self.active_until,
            self.timezone,
            owner="the campaign's",
            in_contact_zone=self.hours_in_contact_zone,
        )

    def _window_clashes(self) -> dict[str, str]:
        """Its active hours and those of a channel its flow sends on must meet, or
        that channel's messages could never go out."""
        window, version = self.window, self.flow.current_version
        if window is None or version is None:
            return {}
        if self.start_at is not None and self.end_at is not None:
            opens = windows_open_at([window], self.start_at) or self.start_at
            if opens >= self.end_at:
                return {
                    "active_from": f"These active hours ({window}) are never open "
                    "between the campaign's start and end: none of its messages "
                    "could go out."
                }
        channel_ids = {step.get("channel_id") for step in version.steps} - {None}
        for channel in Channel.objects.filter(
            pk__in=channel_ids, active_from__isnull=False
        ):
            if not windows_meet(window, channel.window):
                return {
                    "active_from": f"These active hours ({window}) and those of "
                    f"channel {channel.name!r} ({channel.window}), which the flow "
                    "sends on, are never open at the same time: its messages could "
                    "never go out."
                }
        return {}

    def can_transition_to(self, status: str) -> bool:
        return status in CAMPAIGN_TRANSITIONS[self.status]

    def is_sent_bulk(self, *, fresh: bool = False) -> bool:
        """A bulk message (schedule once) whose run has happened: it can no longer
        be edited or cancelled. ``fresh`` reads the runs now (an action deciding
        under the campaign's lock: a tick may have opened the run since a list page
        annotated it)."""
        if self.schedule != Schedule.ONCE:
            return False
        known = getattr(self, "_has_runs", None)  # annotated on admin lists
        if known is not None and not fresh:
            return bool(known)
        return self.runs.exists()

    @property
    def is_editable(self) -> bool:
        """Seed 000: a campaign can be modified only when pending or suspended."""
        return self.status in (CampaignStatus.PENDING, CampaignStatus.SUSPENDED)

    @property
    def is_deletable(self) -> bool:
        return self.status != CampaignStatus.IN_PROGRESS


class BulkMessageManager(models.Manager["BulkMessage"]):
    def get_queryset(self) -> "models.QuerySet[BulkMessage]":
        return super().get_queryset().filter(schedule=Schedule.ONCE)


class BulkMessage(Campaign):
    """A bulk message as the console lists it: a campaign of schedule "once", kept
    apart from the campaigns (campaigns.bulk composes and changes them)."""

    objects = BulkMessageManager()  # type: ignore[assignment,misc]

    class Meta:
        proxy = True
        verbose_name = "bulk message"
        verbose_name_plural = "bulk messages"


# A campaign's status changes and its runs live in their own module; Django finds
# them here.
from .run_models import CampaignEvent, CampaignRun  # noqa: E402

__all__ = [
    "CAMPAIGN_TRANSITIONS",
    "Campaign",
    "CampaignAlsoGroup",
    "CampaignEvent",
    "CampaignExcludedGroup",
    "CampaignRule",
    "CampaignRun",
    "BulkMessage",
    "CampaignStatus",
    "Schedule",
]
