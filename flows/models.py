from django.conf import settings
from django.db import models

from audiences.models import GroupRule


class Flow(models.Model):
    class Trigger(models.TextChoices):
        MANUAL = "manual", "Manual (started by a campaign)"
        EVENT = "event", "Behavioural event"
        AUDIENCE = "audience", "Audience (a group enters on a schedule)"

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"
        ARCHIVED = "archived", "Archived"

    name = models.CharField(max_length=100, unique=True)
    description = models.CharField(max_length=255, blank=True)
    trigger = models.CharField(
        max_length=10,
        choices=Trigger.choices,
        default=Trigger.MANUAL,
        help_text="Only Manual flows can be run by a campaign.",
    )
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.DRAFT, editable=False
    )
    current_version = models.ForeignKey(
        "FlowVersion",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        help_text="The last published version: what newly saved campaigns will send.",
    )
    has_draft_changes = models.BooleanField(
        "unpublished changes",
        default=False,
        editable=False,
        help_text="The steps were edited after the last publish; campaigns keep "
        "sending the published version until the flow is published again.",
    )
    event_name = models.CharField(
        max_length=100,
        blank=True,
        help_text="Behavioural-event flows: the event (as reported to /api/events) "
        "that puts a contact on the flow, e.g. cart_abandoned.",
    )
    audience_group = models.ForeignKey(
        "audiences.AudienceGroup",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Audience flows: the group whose members enter the flow.",
    )
    audience_every = models.CharField(
        "audience enters",
        max_length=10,
        blank=True,
        choices=[
            ("minute", "every minute"),
            ("hourly", "every hour"),
            ("daily", "every day"),
        ],
        help_text="Audience flows: how often the group's members enter (each member "
        "at most once per period).",
    )
    audience_last_entry = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["status", "trigger"], name="flow_status_idx")]
        permissions = [
            ("publish_flow", "Can publish flows"),
            ("report_event", "Can report behavioural events (API)"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def can_run_in_campaign(self) -> bool:
        return (
            self.status == self.Status.PUBLISHED
            and self.trigger == self.Trigger.MANUAL
            and self.current_version_id is not None
        )


class FlowStep(models.Model):
    """One step of a flow's working copy. Publishing copies the steps into a version."""

    class Kind(models.TextChoices):
        SEND = "send", "Send a message"
        WAIT = "wait", "Wait"
        BRANCH = "branch", "Branch on a condition"
        END = "end", "End"

    flow = models.ForeignKey(Flow, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField(
        help_text="Steps run in increasing position."
    )
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.SEND)
    channel = models.ForeignKey(
        "messaging.Channel",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Send steps: the channel the message goes out on.",
    )
    body = models.TextField(
        blank=True,
        help_text="Send steps: the message text. {{NOMBRE}} is replaced by the "
        "contact's custom data NOMBRE; {{PHONE}}, {{NAME}} and {{EMAIL}} also work. "
        "{{NOMBRE|cliente}} says cliente to contacts without one.",
    )
    media_url = models.URLField(
        "image or media URL",
        blank=True,
        help_text="Send steps: an image, video or file sent with the text (optional).",
    )
    wait = models.DurationField(
        null=True,
        blank=True,
        help_text="Wait steps: how long to wait, e.g. 00:01:00 for a minute or "
        "1 00:00:00 for a day.",
    )
    next_step = models.PositiveSmallIntegerField(
        "then go to",
        null=True,
        blank=True,
        help_text="The position of the step that follows; empty: the next one down.",
    )
    condition_field = models.CharField(
        "if",
        max_length=64,
        blank=True,
        help_text="Branch steps: PHONE, NAME, EMAIL, OPTED_OUT or a custom-data "
        "variable (MONTO).",
    )
    condition_op = models.CharField(
        "condition", max_length=10, blank=True, choices=GroupRule.Op.choices
    )
    condition_value = models.CharField(
        "value",
        max_length=200,
        blank=True,
        help_text="Numbers as 1000, dates as YYYY-MM-DD; empty for is set / is empty.",
    )
    yes_step = models.PositiveSmallIntegerField(
        "yes: go to", null=True, blank=True, help_text="Branch steps."
    )
    no_step = models.PositiveSmallIntegerField(
        "no: go to", null=True, blank=True, help_text="Branch steps."
    )
    template = models.ForeignKey(
        "messaging.MessageTemplate",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Send steps: a message template instead of typing the text "
        "(leave the text empty). Publishing pins its current version: published "
        "versions keep sending that text, and the flow shows unpublished changes "
        "when the template gets a newer one.",
    )
    media = models.ForeignKey(
        "messaging.MediaAsset",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="image of the media library",
        help_text="Send steps: an image of the media library instead of a media URL.",
    )

    class Meta:
        ordering = ["flow", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["flow", "position"], name="flowstep_unique_position"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.position}. {self.get_kind_display()}"


class FlowVersion(models.Model):
    """An immutable copy of a flow's steps, made when it is published.

    Campaigns run a version, so editing the flow afterwards changes nothing they send.
    """

    flow = models.ForeignKey(Flow, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    steps = models.JSONField()
    published_at = models.DateTimeField(auto_now_add=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["flow", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["flow", "number"], name="flowversion_unique_number"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.flow} v{self.number}"


class Cohort(models.Model):
    """Journeys started together on one flow version: the group of one campaign run,
    or everyone an event or the audience schedule puts on the version (its entries
    cohort, one per version). Its messages go in one messaging batch, which carries
    its texts, sender and active hours."""

    flow_version = models.ForeignKey(
        FlowVersion, on_delete=models.PROTECT, related_name="cohorts"
    )
    batch = models.OneToOneField(
        "messaging.Batch", on_delete=models.PROTECT, related_name="cohort"
    )
    for_entries = models.BooleanField(
        default=False,
        help_text="The version's cohort for contacts put on it by events or its "
        "audience schedule, each at most once per entry key.",
    )
    held = models.BooleanField(
        default=False,
        help_text="Its journeys wait where they are (a suspended campaign) until it "
        "is released.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["flow_version"],
                condition=models.Q(for_entries=True),
                name="cohort_one_for_entries",
            ),
        ]

    def __str__(self) -> str:
        return f"Cohort {self.pk}"


class Journey(models.Model):
    """One contact on one flow version: where it is, and when it moves on.

    A campaign run puts each member of its group on the flow (one journey per cohort
    and contact); events and audience schedules put contacts on flows through the
    version's entries cohort, once per entry key. The engine (flows.engine) is the
    only writer of ``step``, ``status`` and ``due_at``.
    """

    class Status(models.TextChoices):
        ACTIVE = "active", "On the flow"
        ENDED = "ended", "Ended"
        CANCELLED = "cancelled", "Cancelled"
        FAILED = "failed", "Stopped by an error"

    # No database foreign-key checks: journeys are inserted a million at a time from
    # rows that exist, and each check would lock the referenced row.
    flow = models.ForeignKey(
        Flow,
        on_delete=models.CASCADE,
        related_name="journeys",
        db_index=False,
        db_constraint=False,
    )
    flow_version = models.ForeignKey(
        FlowVersion,
        on_delete=models.PROTECT,
        related_name="journeys",
        db_index=False,
        db_constraint=False,
    )
    # The unique (cohort, contact) key starts with cohort.
    cohort = models.ForeignKey(
        Cohort,
        on_delete=models.CASCADE,
        related_name="journeys",
        db_index=False,
        db_constraint=False,
    )
    contact = models.ForeignKey(
        "audiences.Contact",
        on_delete=models.CASCADE,
        related_name="journeys",
        db_constraint=False,
    )
    step = models.PositiveSmallIntegerField(
        help_text="The position of the step the contact is at."
    )
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.ACTIVE
    )
    due_at = models.DateTimeField(
        null=True, blank=True, help_text="When the contact moves on (after a wait)."
    )
    hops = models.PositiveIntegerField(
        default=0, help_text="Steps taken; a runaway loop is stopped."
    )
    entry_key = models.CharField(
        max_length=200,
        blank=True,
        help_text="What put the contact on the flow: an event id, or an audience "
        "period. A contact enters at most once per key.",
    )
    context = models.JSONField(
        default=dict,
        blank=True,
        help_text="The properties of the event that put the contact on the flow; "
        "templates read them like custom data ({{order_id}}).",
    )
    entered_at = models.DateTimeField(auto_now_add=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            # A campaign run's cohort holds each contact once; an entries cohort
            # holds a contact once per entry key (the next constraint).
            models.UniqueConstraint(
                fields=["cohort", "contact"],
                condition=models.Q(entry_key=""),
                name="journey_once_per_cohort",
            ),
            models.UniqueConstraint(
                fields=["flow", "contact", "entry_key"],
                condition=~models.Q(entry_key=""),
                name="journey_once_per_entry_key",
            ),
        ]
        indexes = [
            models.Index(
                fields=["due_at"],
                name="journey_due_idx",
                condition=models.Q(status="active"),
            ),
            # A flow's journeys, by status, newest first: the journeys list filtered
            # by flow (JourneyAdmin.get_ordering), with or without a status.
            models.Index(
                fields=["flow", "status", "-id"], name="journey_flow_status_id_idx"
            ),
            # Journeys that stopped early are few and looked for (active ones are
            # found through journey_due_idx, ended ones by scanning newest first).
            models.Index(
                fields=["-id"],
                name="journey_stopped_idx",
                condition=models.Q(status__in=["cancelled", "failed"]),
            ),
        ]

    def __str__(self) -> str:
        # Lists read the contact with the journey (list_select_related, and the
        # admin's deletion summary), so naming it costs them no query.
        return f"Journey {self.pk} of {self.contact}, {self.status}"
