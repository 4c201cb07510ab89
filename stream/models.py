"""The event stream's tables: endpoints operators subscribe, the events written with
the changes that caused them, one delivery per event and endpoint, and each attempt
at it."""

import datetime as dt
from typing import Any

from django.db import models
from django.utils import timezone

from base.encryption import SecretField


class EventType(models.TextChoices):
    MESSAGE_SENT = "message.sent", "Message sent"
    MESSAGE_DELIVERED = "message.delivered", "Message delivered"
    MESSAGE_FAILED = "message.failed", "Message failed"
    REPLY_RECEIVED = "reply.received", "Reply received"
    CONTACT_OPTED_OUT = "contact.opted_out", "Contact opted out"
    ADDRESS_SUPPRESSED = "address.suppressed", "Address put on the suppression list"
    ADDRESS_UNSUPPRESSED = (
        "address.unsuppressed",
        "Address taken off the suppression list",
    )
    RUN_FINISHED = "run.finished", "Campaign run finished"
    IMPORT_FINISHED = "import.finished", "Contact import finished"
    # Sent to one endpoint by its "Send a test event" button; not subscribable.
    ENDPOINT_TEST = "endpoint.test", "Test event"


SUBSCRIBABLE = [
    (value, label) for value, label in EventType.choices if value != "endpoint.test"
]


class Endpoint(models.Model):
    """A URL the events of the types it subscribes to are posted to."""

    url = models.URLField(
        "URL",
        max_length=500,
        help_text="Where events are posted (https://…): an address on the internet; "
        "Flowcast does not post inside its own network.",
    )
    description = models.CharField(max_length=200, blank=True)
    event_types = models.JSONField(
        default=list,
        blank=True,
        help_text="The event types posted to it.",
    )
    active = models.BooleanField(
        default=True,
        help_text="Inactive endpoints get no new events; what was waiting for them "
        "waits (and is given up after STREAM_GIVE_UP_HOURS).",
    )
    # Sealed (base.encryption); stream.secrets makes, rotates and shows them.
    secret = SecretField(blank=True, editable=False)
    previous_secret = SecretField(blank=True, editable=False)
    previous_secret_until = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    # Delivery state, written by stream.delivery alone.
    kick_queued = models.BooleanField(
        default=False,
        editable=False,
        help_text="A delivery pass is queued: emits need not queue another.",
    )
    lease_until = models.DateTimeField(null=True, blank=True, editable=False)
    lease_token = models.UUIDField(null=True, blank=True, editable=False)
    paused_until = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="It looked down (or asked to wait): nothing is posted before this.",
    )
    failing_since = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="Since when it has looked down; empty while it answers.",
    )
    pauses = models.PositiveIntegerField(
        default=0,
        editable=False,
        help_text="Pauses in a row while it looks down (each longer, up to "
        "STREAM_MAX_PAUSE_SECONDS).",
    )
    last_error = models.TextField(blank=True, editable=False)
    last_delivered_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["url"]

    def __str__(self) -> str:
        return self.description or self.url

    def subscribes(self, event_type: str) -> bool:
        return event_type in (self.event_types or [])


class Event(models.Model):
    """Something that happened, written in the transaction of the change that made
    it: posted as ``{"type", "timestamp", "data"}``."""

    type = models.CharField(max_length=40, choices=EventType.choices)
    data = models.JSONField(default=dict)
    contact_key = models.BigIntegerField(
        null=True,
        blank=True,
        help_text="The contact it is about: an endpoint gets each contact's events "
        "in order.",
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.type} {self.pk}"

    @property
    def webhook_id(self) -> str:
        """Its ``webhook-id``: the same on every retry and to every endpoint."""
        return f"evt_{self.pk}"

    def body(self) -> dict[str, Any]:
        return event_body(self.type, self.created_at, self.data)


def event_body(type: str, created_at: dt.datetime, data: Any) -> dict[str, Any]:
    """The JSON an endpoint is posted, as Standard Webhooks shapes it."""
    return {
        "type": type,
        "timestamp": created_at.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
        "data": data,
    }


class Delivery(models.Model):
    """One event for one endpoint: pending until it is delivered (a 2xx answer) or
    given up (failed)."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed (given up)"

    # No index of their own: the (event, endpoint) unique key and the indexes
    # below start with them.
    event = models.ForeignKey(
        Event, on_delete=models.CASCADE, related_name="deliveries", db_index=False
    )
    endpoint = models.ForeignKey(
        Endpoint, on_delete=models.CASCADE, related_name="deliveries", db_index=False
    )
    # The event's, copied: the worker orders by contact and the console filters by
    # type without a join.
    event_type = models.CharField(
        "type", max_length=40, choices=EventType.choices, editable=False
    )
    contact_key = models.BigIntegerField(null=True, blank=True, editable=False)
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.PENDING, editable=False
    )
    attempts = models.PositiveIntegerField(default=0, editable=False)
    next_attempt_at = models.DateTimeField(default=timezone.now, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    delivered_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_status_code = models.PositiveSmallIntegerField(
        "last answer", null=True, blank=True, editable=False
    )
    last_error = models.TextField(blank=True, editable=False)

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "deliveries"
        constraints = [
            models.UniqueConstraint(
                fields=["event", "endpoint"], name="stream_delivery_once"
            ),
        ]
        indexes = [
            # The worker: an endpoint's pending deliveries in order, and whether any
            # is due. Partial: only what waits, small unless an endpoint is down.
            models.Index(
                fields=["endpoint", "id"],
                name="stream_delivery_pending_idx",
                condition=models.Q(status="pending"),
            ),
            models.Index(
                fields=["endpoint", "next_attempt_at"],
                name="stream_delivery_due_idx",
                condition=models.Q(status="pending"),
            ),
            # The console: an endpoint's deliveries (by status), newest first, and
            # the counts on the endpoints list.
            models.Index(
                fields=["endpoint", "status", "-id"],
                name="stream_delivery_endpoint_idx",
            ),
            models.Index(fields=["event_type", "-id"], name="stream_delivery_type_idx"),
            # Failures are few and looked for.
            models.Index(
                fields=["-id"],
                name="stream_delivery_failed_idx",
                condition=models.Q(status="failed"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id} to {self.endpoint_id}"


class Attempt(models.Model):
    """One POST of a delivery, and what came of it."""

    delivery = models.ForeignKey(
        Delivery, on_delete=models.CASCADE, related_name="attempt_set"
    )
    at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField(default=0)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_excerpt = models.CharField(
        max_length=500, blank=True, help_text="The start of the answer's body."
    )
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"attempt at {self.at:%Y-%m-%d %H:%M:%S}"
