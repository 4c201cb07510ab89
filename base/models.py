from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models


class AuditEntry(models.Model):
    """Who did what to which object, when, with the values before and after.

    Written by the business functions (campaign lifecycle, publishing, imports,
    exports, opt-outs) and by the admin for plain edits; never edited.
    """

    class Action(models.TextChoices):
        CREATE = "create", "Created"
        CHANGE = "change", "Changed"
        DELETE = "delete", "Deleted"
        STATUS = "status", "Status changed"
        PUBLISH = "publish", "Published"
        IMPORT = "import", "Imported"
        EXPORT = "export", "Exported"
        OPT_OUT = "opt_out", "Opted out"
        SEND = "send", "Bulk message"
        TOKEN = "token", "API key issued"

    at = models.DateTimeField("when", auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    actor_label = models.CharField(
        "by",
        max_length=150,
        help_text="The user's name, or the background job that made the change.",
    )
    action = models.CharField(max_length=10, choices=Action.choices)
    target_type = models.ForeignKey(
        ContentType,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="kind of object",
    )
    target_id = models.CharField(max_length=64, blank=True)
    target_repr = models.CharField("object", max_length=200, blank=True)
    changes = models.JSONField(
        default=dict,
        blank=True,
        help_text="Field: [before, after] for each value that changed.",
    )
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = "audit entry"
        verbose_name_plural = "audit trail entries"
        indexes = [
            models.Index(
                fields=["target_type", "target_id", "-at"], name="audit_target_idx"
            ),
            models.Index(fields=["actor", "-at"], name="audit_actor_idx"),
        ]

    def __str__(self) -> str:
        return (
            f"{self.actor_label} {self.get_action_display().lower()} {self.target_repr}"
        )


class Heartbeat(models.Model):
    """The last time each background process showed it is alive."""

    name = models.CharField(max_length=20, primary_key=True)
    seen_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} at {self.seen_at:%Y-%m-%d %H:%M:%S}"


def installation_zone() -> str:
    return settings.TIME_ZONE


class OperatorSettings(models.Model):
    """One operator's own settings, chosen on their My settings page: for now the
    time zone the console shows them every time in (base.clock)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="operator_settings",
    )
    time_zone = models.CharField(
        "my time zone",
        max_length=64,
        default=installation_zone,
        help_text="Every date and time in the console is shown to you in this zone, "
        "and the dates and times you type are read in it.",
    )

    class Meta:
        verbose_name = "operator's settings"
        verbose_name_plural = "operators' settings"

    def __str__(self) -> str:
        return f"settings of {self.user}"
