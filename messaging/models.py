from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from base.encryption import SecretField
from base.zones import zone_normal

from .templates import MediaAsset, MessageTemplate, TemplateVersion  # noqa: F401
from .windows import Window, window_clashes, window_errors, zone_default


def default_timezone() -> str:
    return zone_default()


# Keys channels once took (names of environment variables to read secrets from), and
# secrets that belong in the encrypted fields instead.
SECRET_SETTINGS = {
    "secret_env",
    "token_env",
    "sid_env",
    "secret",
    "auth_token",
    "account_sid",
    "password",
}


# Words of a setting's name that say it holds a secret.
SECRET_WORDS = ("secret", "token", "password", "passwd", "api_key", "apikey")


def secret_setting(key: str) -> bool:
    """Whether a provider setting's name says it is (or names) a secret, whatever
    its case: secrets belong in the encrypted fields."""
    name = key.strip().lower()
    return name in SECRET_SETTINGS or any(word in name for word in SECRET_WORDS)


# The suppression list's address (audiences.suppression) that each kind of channel
# reaches.
ADDRESS_KINDS = {
    "sms": "phone",
    "whatsapp": "phone",
    "console": "phone",
    "email": "email",
}


class Channel(models.Model):
    class Kind(models.TextChoices):
        CONSOLE = "console", "Console (log only, for development)"
        SMS = "sms", "SMS"
        WHATSAPP = "whatsapp", "WhatsApp-style chat"
        EMAIL = "email", "Email"
        WEBHOOK = "webhook", "Webhook (HTTP POST)"

    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.CONSOLE)
    enabled = models.BooleanField(default=True)
    active_from = models.TimeField(
        null=True,
        blank=True,
        help_text="Start of the daily sending window (e.g. 08:00). Leave both times "
        "empty to send at any hour.",
    )
    active_until = models.TimeField(
        null=True, blank=True, help_text="End of the daily sending window (e.g. 21:00)."
    )
    timezone = models.CharField(
        max_length=64,
        default=default_timezone,
        help_text="Time zone of the sending window, e.g. America/Bogota or Etc/GMT+5.",
    )
    rate_per_second = models.PositiveIntegerField(
        null=True, blank=True, help_text="Most messages per second; empty for no limit."
    )
    settings = models.JSONField(
        default=dict,
        blank=True,
        help_text="Provider settings (sender, endpoint, ...); never secrets: those "
        "are kept encrypted in the fields below.",
    )
    # Secrets, as ciphertext (base.encryption); messaging.credentials reads and
    # changes them.
    signing_secret = SecretField(
        blank=True,
        editable=False,
        help_text="Webhook channels: the Standard Webhooks secret (whsec_…) their "
        "posts are signed with and their hooks must be signed with.",
    )
    previous_signing_secret = SecretField(blank=True, editable=False)
    previous_secret_until = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="Until then the secret before the last rotation still signs and "
        "is still accepted.",
    )
    credentials = SecretField(
        blank=True,
        editable=False,
        help_text="The provider's credentials (Twilio: account SID and auth token), "
        "as encrypted JSON.",
    )
    # Reply keywords (messaging.keywords): blank takes the defaults.
    stop_keywords = models.CharField(
        max_length=200,
        blank=True,
        help_text="Replies that stop messages to the sender's number, separated by "
        "commas (e.g. BAJA, PARAR); compared as letters only, in any case. Blank: "
        "STOP, STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT and MESSAGING_STOP_KEYWORDS.",
    )
    start_keywords = models.CharField(
        max_length=200,
        blank=True,
        help_text="Replies that take back a STOP (e.g. ALTA), separated by commas. "
        "Blank: START, UNSTOP, SUBSCRIBE, YES.",
    )
    help_keywords = models.CharField(
        max_length=200,
        blank=True,
        help_text="Replies answered with the help text (e.g. AYUDA), separated by "
        "commas. Blank: HELP, INFO.",
    )
    help_text = models.TextField(
        "answer to HELP",
        blank=True,
        help_text="Sent back to whoever replies a help keyword: who you are and how "
        'to stop. Blank: "<channel name>: messages from us. Reply STOP to stop, '
        'START to start again."',
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def address_kind(self) -> str:
        """Which entries of the suppression list stop its messages: "phone" (SMS,
        WhatsApp, the console), "email", or "" (webhooks: the global opt-out only)."""
        return ADDRESS_KINDS.get(self.kind, "")

    @property
    def window(self) -> Window | None:
        """Its active hours, if it has any."""
        return Window.of(
            self.active_from,
            self.active_until,
            self.timezone,
            owner=f"channel {self.name!r}'s",
        )

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.kind not in settings.MESSAGING_BACKENDS:
            errors["kind"] = (
                f"No delivery backend is installed for {self.get_kind_display()} "
                "channels yet."
            )
        needs = {
            self.Kind.WEBHOOK: (("url",), 'the URL to post to: {"url": "https://…"}'),
            self.Kind.SMS: (
                ("from", "messaging_service_sid"),
                'the sending number: {"from": "+15005550006"}',
            ),
            self.Kind.WHATSAPP: (
                ("from", "messaging_service_sid"),
                'the WhatsApp sender: {"from": "+14155238886"}',
            ),
        }
        if self.kind in needs:
            keys, example = needs[self.Kind(self.kind)]
            if not isinstance(self.settings, dict) or not any(
                self.settings.get(key) for key in keys
            ):
                errors["settings"] = (
                    f"{self.get_kind_display()} channels need {example}."
                )
        found = self.settings if isinstance(self.settings, dict) else {}
        secretive = sorted(key for key in found if secret_setting(key))
        url = str(found.get("url") or "")
        if "settings" not in errors and urlsplit(url).password:
            errors["settings"] = (
                "The url carries a password: settings are not secret (they are shown "
                "here and kept in the audit trail). Give the receiver's address alone; "
                "posts are signed with the channel's signing secret."
            )
        if secretive and "settings" not in errors:
            errors["settings"] = (
                f"{', '.join(secretive)} cannot be set here: secrets are not provider "
                "settings, and none is read from the environment. Enter the Twilio "
                "account SID and auth token in their fields; webhook channels sign "
                "with a secret Flowcast makes (Rotate signing secret)."
            )
        self.timezone = zone_normal(self.timezone)  # "GMT-5" is Etc/GMT+5
        errors.update(window_errors(self.active_from, self.active_until, self.timezone))
        if not errors and self.pk is not None:
            errors.update(self._window_clashes())
        if errors:
            raise ValidationError(errors)

    def _window_clashes(self) -> dict[str, str]:
        """New active hours must still meet those of whoever sends on this channel
        with hours of their own (a campaign), or those messages could never go
        out."""
        window = self.window
        if window is None:
            return {}
        clash = next(window_clashes(self.pk, window), None)
        return {"active_from": clash} if clash else {}


class MessageQuerySet(models.QuerySet["Message"]):
    def due(self, now: Any) -> "MessageQuerySet":
        """Queued or deferred messages whose time has come and no worker holds."""
        return self.filter(
            status__in=(Message.Status.QUEUED, Message.Status.DEFERRED),
            claim_token__isnull=True,
        ).filter(models.Q(not_before__isnull=True) | models.Q(not_before__lte=now))


class Message(models.Model):
    """One message to one contact: one step of its batch's texts (a send step of a
    flow, for a campaign run or a flow's entries)."""

    class Status(models.TextChoices):
        # A worker sending a message holds a claim on it (claim_token, lease_until)
        # but leaves its status alone: the status is indexed, and a claim that
        # changes no indexed column is a cheap in-place (HOT) update.
        QUEUED = "queued", "Queued"
        DEFERRED = "deferred", "Deferred (waiting for active hours)"
        SENT = "sent", "Sent"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped (opted out)"
        CANCELLED = "cancelled", "Cancelled"

    # Messages are written set-wise from rows that exist (a flow's journeys), a
    # million at a time: database foreign-key checks would lock each referenced row
    # and cost more than the insert itself. Django still deletes messages with their
    # batch or contact.
    # No index of its own: the (batch, status) index starts with it.
    batch = models.ForeignKey(
        "messaging.Batch",
        on_delete=models.CASCADE,
        related_name="messages",
        db_index=False,
        db_constraint=False,
        help_text="The batch it was written in, which says what it sends and when.",
    )
    origin = models.BigIntegerField(
        null=True,
        blank=True,
        db_column="journey_id",
        help_text="What wrote it, as its writer numbers it (a flow's journey): one "
        "message per origin and step, however often the writing is repeated.",
    )
    context = models.JSONField(
        null=True,
        blank=True,
        editable=False,
        help_text="Values its template reads besides the contact's (the properties "
        "of the event that started its flow).",
    )
    contact = models.ForeignKey(
        "audiences.Contact",
        on_delete=models.CASCADE,
        related_name="messages",
        db_constraint=False,
    )
    step = models.PositiveIntegerField(
        help_text="Which of its batch's templates it sends (the flow step's id)."
    )
    # No index: every index costs each message's two updates (claimed, sent); a
    # channel is rarely deleted, and then the check may scan.
    channel = models.ForeignKey(
        Channel,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.QUEUED, editable=False
    )
    attempts = models.PositiveSmallIntegerField(default=0, editable=False)
    not_before = models.DateTimeField(null=True, blank=True, editable=False)
    lease_until = models.DateTimeField(null=True, blank=True, editable=False)
    claim_token = models.UUIDField(null=True, blank=True, editable=False)
    body = models.TextField(blank=True, editable=False, help_text="The text as sent.")
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True, editable=False)
    error = models.TextField(blank=True, editable=False)
    provider_id = models.CharField(max_length=200, blank=True, editable=False)
    reported_status = models.CharField(
        max_length=10,
        blank=True,
        editable=False,
        db_default="",  # the set-wise inserts leave it to the database
        help_text="A delivery receipt that came while the message was still being "
        "recorded as sent; applied when it is.",
    )

    objects = MessageQuerySet.as_manager()
    # Set from its batch when it is sent, for the backend; not stored.
    media_url = ""
    sender_name = ""
    reply_to = ""
    tags: dict[str, Any] = {}  # replaced per message, never changed in place
    # Set by a claim: its channel's address is on the suppression list.
    suppressed = False

    class Meta:
        ordering = ["-id"]
        constraints = [
            # A repeated write (a retried transaction, a second engine pass) adds
            # nothing: its rows are in order of origin, so the index grows at its end.
            models.UniqueConstraint(
                fields=["origin", "step"], name="message_once_per_origin_step"
            ),
        ]
        indexes = [
            # With the channel and the id: a batch's newest and oldest message of
            # each status (and channel) in one probe each (messaging.batch_span),
            # for the lists filtered by campaign or run.
            models.Index(
                fields=["batch", "status", "channel", "id"],
                name="message_batch_status_idx",
            ),
            # The statuses looked for that are rarely the most: newest first, each
            # its own; the common ones are found through their batch, or by
            # scanning newest first.
            models.Index(
                fields=["status", "-id"],
                name="message_attention_idx",
                condition=models.Q(status__in=["failed", "cancelled", "skipped"]),
            ),
            models.Index(
                fields=["not_before"],
                name="message_pending_idx",
                condition=models.Q(status__in=["queued", "deferred"]),
            ),
        ]

    def __str__(self) -> str:
        # Lists read the contact with the message (list_select_related, and the
        # admin's deletion summary), so naming it costs them no query.
        return f"Message {self.pk} to {self.contact}, {self.state}"

    @property
    def state(self) -> str:
        return shown_status(self.status, self.claim_token is not None)


def shown_status(status: str, claimed: bool) -> str:
    """A message's status as an operator reads it: a worker's claim does not change
    the stored status (see messaging.claims), so a claimed unsent message is
    "sending"."""
    if claimed and status in (Message.Status.QUEUED, Message.Status.DEFERRED):
        return "sending"
    return str(status)


# Defined in their own modules, registered with the app's models from here.
from .batches import Batch  # noqa: E402, F401
from .caps import FrequencyCap  # noqa: E402, F401
from .conversations import Answer, Conversation, Team  # noqa: E402, F401
from .inbound import InboundMessage  # noqa: E402, F401
