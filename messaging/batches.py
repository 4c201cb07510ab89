"""A batch of messages: what sending them needs besides the contact (imported in
messaging.models, where Django finds it)."""

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import models

from .windows import ActiveHours, Window, zone_default

# Tags of batches whose messages are not marketing: transactional sends and the
# console's answers.
NOT_MARKETING = frozenset({"transactional", "conversation"})


class Batch(models.Model):
    """Messages written together, and what sending them needs besides the contact:
    their texts, the sender, the active hours, and whether they may still go out.

    Whoever writes messages opens a batch for them first (a campaign run, through its
    flow; a flow's event and audience entries) and stops it when they must no longer
    go out. Sending reads all of it from here, in one row per chunk.
    """

    name = models.CharField(
        max_length=200,
        help_text="What the messages are sent for, as operators read it.",
    )
    templates = models.JSONField(
        default=dict,
        blank=True,
        help_text='The texts, by step: {"<step id>": {"body": …, "media_url": …, '
        '"label": …}}; {{VARIABLE}} placeholders are filled per contact.',
    )
    sender_name = models.CharField(max_length=60, blank=True)
    reply_to = models.EmailField(blank=True)
    reply_team = models.ForeignKey(
        "messaging.Team",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Reply message sent to this group of employees: a reply to these "
        "messages opens a conversation in the team's inbox.",
    )
    reply_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Reply message sent to this employee: a reply to these messages "
        "opens a conversation assigned to them.",
    )
    active_from = models.TimeField(null=True, blank=True)
    active_until = models.TimeField(null=True, blank=True)
    timezone = models.CharField(
        max_length=64,
        blank=True,
        help_text="The zone of its active hours and of its send time, for contacts "
        "without a zone of their own. Empty: the installation's.",
    )
    hours_in_contact_zone = models.BooleanField(
        "active hours in each contact's zone",
        default=False,
        help_text="Its active hours are read in each contact's own time zone (the "
        "contact's, else its phone number's); contacts without one follow the "
        "batch's zone. Its channels' hours stay in their own zones.",
    )
    send_at_local = models.DateTimeField(
        null=True,
        blank=True,
        help_text="None of its messages goes out before this wall-clock time in its "
        "contact's own zone (a bulk message at 09:00 in each contact's zone). Stored "
        "as that time in the batch's zone, which contacts without one follow.",
    )
    hours_of = models.CharField(
        max_length=60,
        blank=True,
        help_text="Whose active hours these are, as a message held or failed by them "
        'says it ("the campaign\'s").',
    )
    tags = models.JSONField(
        default=dict,
        blank=True,
        help_text="What its writer says of it, passed on to providers that carry such "
        'data (webhook bodies): {"run": 12}.',
    )
    stopped_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="From then on none of its messages goes out: those still waiting are "
        "cancelled.",
    )
    stop_reason = models.CharField(max_length=200, blank=True)
    pruned_counts = models.JSONField(
        default=dict,
        blank=True,
        editable=False,
        help_text="Its messages deleted after the retention period, by status; "
        "reports add them to the rows still kept.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "batches"

    def __str__(self) -> str:
        return self.name

    @property
    def is_marketing(self) -> bool:
        """Whether its messages are marketing (a campaign's, a flow's, a bulk
        message's): frequency caps count them and emails carry an unsubscribe link.
        Transactional sends and the console's answers are not."""
        return not (NOT_MARKETING & set(self.tags or {}))

    @property
    def window(self) -> Window | None:
        """Its own active hours, if it has any (its channels' apply as well)."""
        return Window.of(
            self.active_from,
            self.active_until,
            self.timezone or zone_default(),
            owner=self.hours_of or "the batch's",
            in_contact_zone=self.hours_in_contact_zone,
        )

    @property
    def local_start(self) -> dt.datetime | None:
        """``send_at_local`` as a wall-clock time (naive), read in its zone."""
        if self.send_at_local is None:
            return None
        zone = ZoneInfo(self.timezone or zone_default())
        return self.send_at_local.astimezone(zone).replace(tzinfo=None)

    def active_hours(self) -> ActiveHours:
        """When its messages may go out, with their channels' hours."""
        return ActiveHours(
            self.window,
            send_at_local=self.local_start,
            local_zone=self.timezone or zone_default(),
        )

    def template(self, step: int) -> dict[str, Any] | None:
        found = self.templates.get(str(step))
        return found if isinstance(found, dict) else None
