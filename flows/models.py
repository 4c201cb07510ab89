from typing import Any

from django.conf import settings
from django.db import models


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
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["status", "trigger"], name="flow_status_idx")]
        permissions = [("publish_flow", "Can publish flows")]

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
        "contact's custom data NOMBRE; {{PHONE}}, {{NAME}} and {{EMAIL}} also work.",
    )
    wait = models.DurationField(
        null=True, blank=True, help_text="Wait steps: how long to wait."
    )
    condition = models.JSONField(
        default=dict, blank=True, help_text="Branch steps: the condition."
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

    def send_steps(self) -> list[dict[str, Any]]:
        """The send steps a run delivers, in order, up to the first end step."""
        steps: list[dict[str, Any]] = []
        for step in self.steps:
            if step["kind"] == FlowStep.Kind.END:
                break
            if step["kind"] == FlowStep.Kind.SEND:
                steps.append(step)
        return steps
