"""Behavioural events as data: what a contact did, reported to /api/events, kept
EVENTS_RETENTION_DAYS for the conditions of event flows (seed 002: "conditions
based on event properties and the number of occurrences").

An event is stored once per (contact, name, event id): the same id reported again is
the same event, and counts once.
"""

import datetime as dt
import json
import logging
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

logger = logging.getLogger(__name__)

# How far ahead of the server's clock an event's time may be (clocks drift).
FUTURE_SLACK = dt.timedelta(minutes=5)
# An event's properties, as compact UTF-8 JSON, at most this many bytes.
MAX_PROPERTIES_BYTES = 16 * 1024
PRUNE_BATCH = 5000


class ContactEvent(models.Model):
    """One behavioural event of a contact."""

    contact = models.ForeignKey(
        "audiences.Contact",
        on_delete=models.CASCADE,
        related_name="events",
        db_index=False,  # contactevent_contact_name_idx starts with it
        help_text="The contact the event is about; its events go with it.",
    )
    name = models.CharField(
        max_length=100, help_text="The event's name, e.g. cart_abandoned."
    )
    event_id = models.CharField(
        "event id",
        max_length=150,
        help_text="The sender's id of the event: reported again, it is stored once.",
    )
    properties = models.JSONField(
        default=dict,
        blank=True,
        help_text="What the sender said about the event, e.g. "
        '{"cart": "A-17", "total": 1200}.',
    )
    occurred_at = models.DateTimeField(
        help_text="When it happened, as the sender said (else when it arrived)."
    )
    received_at = models.DateTimeField(help_text="When Flowcast received it.")

    class Meta:
        verbose_name = "event"
        ordering = ["-occurred_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["contact", "name", "event_id"],
                name="contactevent_unique_id",
            ),
        ]
        indexes = [
            # Occurrences of one event of one contact in a time window.
            models.Index(
                fields=["contact", "name", "occurred_at"],
                name="contactevent_contact_name_idx",
            ),
            # Retention, and the admin list newest first.
            models.Index(fields=["occurred_at"], name="contactevent_occurred_idx"),
            # The admin's filter by name.
            models.Index(fields=["name", "occurred_at"], name="contactevent_name_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.event_id})"


class EventRefused(Exception):
    """The event cannot be stored as given: ``field`` says which part, ``message``
    why."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def event_time_parse(text: Any, *, now: dt.datetime) -> dt.datetime:
    """The event time an API client gave: ISO 8601 with its offset (Z for UTC), not
    more than FUTURE_SLACK ahead of ``now`` nor older than the retention; empty
    is ``now``."""
    if text is None or text == "":
        return now
    if not isinstance(text, str):
        raise EventRefused(
            "occurred_at", "Give the time as ISO 8601 text, e.g. 2026-12-05T22:30:00Z."
        )
    try:
        moment = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise EventRefused(
            "occurred_at",
            f"{text[:40]!r} is not an ISO 8601 time; write e.g. 2026-12-05T22:30:00Z.",
        ) from None
    if moment.tzinfo is None:
        raise EventRefused(
            "occurred_at",
            "Give the time's UTC offset (2026-12-05T22:30:00-05:00, or Z for UTC).",
        )
    if moment > now + FUTURE_SLACK:
        raise EventRefused(
            "occurred_at",
            f"{moment.isoformat()} is in the future (more than "
            f"{int(FUTURE_SLACK.total_seconds() // 60)} minutes after the server's "
            f"clock, {now.isoformat(timespec='seconds')}).",
        )
    days = settings.EVENTS_RETENTION_DAYS
    if days and moment < now - dt.timedelta(days=days):
        raise EventRefused(
            "occurred_at",
            f"{moment.isoformat()} is older than the {days} days events are kept "
            "(EVENTS_RETENTION_DAYS).",
        )
    return moment


def properties_check(properties: Any) -> dict[str, Any]:
    """``properties`` if they are a JSON object of at most MAX_PROPERTIES_BYTES."""
    if properties is None:
        return {}
    if not isinstance(properties, dict):
        raise EventRefused("properties", "Must be a JSON object.")
    size = len(
        json.dumps(properties, ensure_ascii=False, separators=(",", ":")).encode()
    )
    if size > MAX_PROPERTIES_BYTES:
        raise EventRefused(
            "properties",
            f"{size} bytes as JSON; at most {MAX_PROPERTIES_BYTES} "
            f"({MAX_PROPERTIES_BYTES // 1024} KB).",
        )
    return properties


def event_store(
    *,
    contact_id: int,
    name: str,
    event_id: str,
    properties: Any = None,
    occurred_at: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> tuple[ContactEvent, bool]:
    """Store an event of the contact; return it and whether it is new. The same
    (contact, name, event id) again returns the stored event as it was first given.

    Locks the contact's row until the caller's transaction ends, so that events of
    one contact are stored and counted one after another (run it in the transaction
    that counts its occurrences).
    """
    now = now or timezone.now()
    properties = properties_check(properties)
    if not name.strip() or len(name) > 100:
        raise EventRefused("event", "Give the event name, at most 100 characters.")
    if not event_id.strip() or len(event_id) > 150:
        raise EventRefused("id", "Give the event's id, at most 150 characters.")
    with transaction.atomic():
        # Contact is defined in models, which imports this module.
        contacts = apps.get_model("audiences", "Contact")._default_manager
        list(contacts.select_for_update().filter(pk=contact_id).values("pk"))
        return ContactEvent.objects.get_or_create(
            contact_id=contact_id,
            name=name,
            event_id=event_id,
            defaults={
                "properties": properties,
                "occurred_at": occurred_at or now,
                "received_at": now,
            },
        )


def events_prune(
    *, now: dt.datetime | None = None, batch: int = PRUNE_BATCH, max_batches: int = 200
) -> int:
    """Delete events that occurred more than EVENTS_RETENTION_DAYS ago, oldest
    first, a batch per statement; return how many. 0 days keeps them for ever."""
    days = settings.EVENTS_RETENTION_DAYS
    if not days:
        return 0
    cutoff = (now or timezone.now()) - dt.timedelta(days=days)
    deleted = 0
    for _ in range(max_batches):
        ids = list(
            ContactEvent.objects.filter(occurred_at__lt=cutoff)
            .order_by("occurred_at")
            .values_list("id", flat=True)[:batch]
        )
        if not ids:
            break
        # Nothing refers to an event: one DELETE, no cascade to collect.
        ContactEvent.objects.filter(pk__in=ids).delete()
        deleted += len(ids)
        if len(ids) < batch:
            break
    if deleted:
        logger.info("pruned %d events older than %s", deleted, cutoff.date())
    return deleted
