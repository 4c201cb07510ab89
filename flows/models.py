from django.conf import settings
from django.core.validators import MinValueValidator
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
    for_bulk = models.BooleanField(
        "made for a bulk message",
        default=False,
        editable=False,
        help_text="The one-step flow behind a bulk message: shown only with its bulk "
        "message, never in the Flows list or a campaign's flow picker.",
    )
    event_name = models.CharField(
        max_length=100,
        blank=True,
        help_text="Behavioural-event flows: the event (as reported to /api/events) "
        "that puts a contact on the flow, e.g. cart_abandoned.",
    )
    event_occurrence = models.PositiveSmallIntegerField(
        "on occurrence",
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text="Behavioural-event flows: enter only on exactly this occurrence of "
        "the event (counting those matching the event conditions below, within the "
        "days set next), e.g. 3 for the third time; empty: every time.",
    )
    event_within = models.PositiveSmallIntegerField(
        "within days",
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text="Behavioural-event flows: count occurrences in this many days up to "
        "the event, e.g. 7; empty: every stored event (events are kept "
        "EVENTS_RETENTION_DAYS).",
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
    canvas_layout = models.JSONField(
        default=dict,
        blank=True,
        editable=False,
        help_text="Where the flow's canvas draws each step, by position: "
        '{"3": [x, y]}; a step not in it is laid out by the canvas.',
    )
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
        REPLY = "reply", "Wait for a reply"
        GROUP = "group", "Add to or remove from a group"
        END = "end", "End"

    class ReplyTest(models.TextChoices):
        ANY = "any", "any text"
        KEYWORDS = "keywords", "one of these words"
        NUMBER = "number", "a number"
        YES_NO = "yes_no", "yes (no: anything else)"

    class GroupAction(models.TextChoices):
        ADD = "add", "add the contact to"
        REMOVE = "remove", "remove the contact from"

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
        help_text="Send steps: the channel the message goes out on. Wait-for-a-reply "
        "steps: the channel the reply comes on (that of the question).",
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
        "1 00:00:00 for a day. Wait-for-a-reply steps: how long to wait for the reply, "
        "counted from when the question goes out.",
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
        "no: go to",
        null=True,
        blank=True,
        help_text="Branch steps. Wait-for-a-reply steps: where a reply that fails the "
        "test goes (not used with any text).",
    )
    reply_test = models.CharField(
        "the reply is",
        max_length=10,
        blank=True,
        choices=ReplyTest.choices,
        help_text="Wait-for-a-reply steps: the test a reply passes to go the yes way. "
        "Yes counts yes, y, si, sí, sim, oui, ok in any case.",
    )
    reply_words = models.CharField(
        "words",
        max_length=200,
        blank=True,
        help_text="Wait-for-a-reply steps testing for words: the words, separated by "
        "commas (e.g. PAGO, PAGUE, LISTO); any case, accents ignored.",
    )
    save_reply_as = models.CharField(
        "save the reply as",
        max_length=64,
        blank=True,
        help_text="Wait-for-a-reply steps: the custom-data variable the reply is "
        "kept in (e.g. RESPUESTA), typed as imports type it; empty: not kept.",
    )
    timeout_step = models.PositiveSmallIntegerField(
        "no reply: go to",
        null=True,
        blank=True,
        help_text="Wait-for-a-reply steps: where the contact goes when no reply "
        "came in time.",
    )
    group = models.ForeignKey(
        "audiences.AudienceGroup",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        limit_choices_to={"kind": "static"},
        help_text="Group steps: the static group the contact is added to or "
        "removed from.",
    )
    group_action = models.CharField(
        "action",
        max_length=10,
        blank=True,
        choices=GroupAction.choices,
        help_text="Group steps: add the contact to the group, or remove it.",
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


# Journeys and cohorts, and the conditions of event flows on the event's
# properties, live in their own modules; Django finds them here.
from .event_rules import FlowEventCondition  # noqa: E402
from .journeys import Cohort, Journey  # noqa: E402

__all__ = [
    "Cohort",
    "Flow",
    "FlowEventCondition",
    "FlowStep",
    "FlowVersion",
    "Journey",
]
