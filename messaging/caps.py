"""Frequency caps: at most so many marketing messages per contact in a rolling
number of days, on all channels or on one (imported in messaging.models, where
Django finds it). messaging.capping holds the messages a cap stops."""

import datetime as dt

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models


class FrequencyCap(models.Model):
    """At most ``messages`` marketing messages per contact per ``days`` days, on
    every channel together or on ``channel`` alone. Every enabled cap applies at
    once: a message waits while any of them would be exceeded."""

    messages = models.PositiveSmallIntegerField(
        help_text="At most this many marketing messages to one contact…"
    )
    days = models.PositiveSmallIntegerField(
        help_text="…in this many days, counted back from each send (a rolling "
        "window: 7 means the last 7×24 hours)."
    )
    channel = models.ForeignKey(
        "messaging.Channel",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        help_text="Count and hold only this channel's messages. Leave empty to count "
        "the messages of all channels together.",
    )
    enabled = models.BooleanField(
        default=True,
        help_text="A disabled cap holds nothing; messages it held go out when their "
        "time comes.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["channel__name", "days", "messages"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(messages__gte=1, days__gte=1),
                name="frequency_cap_at_least_one",
                violation_error_message="A cap allows at least 1 message in at "
                "least 1 day.",
            ),
        ]

    def __str__(self) -> str:
        where = f"on {self.channel}" if self.channel_id else "all channels"
        unit = "message" if self.messages == 1 else "messages"
        per = "day" if self.days == 1 else f"{self.days} days"
        return f"At most {self.messages} {unit} per contact per {per}, {where}"

    def clean(self) -> None:
        kept = settings.MESSAGING_RETENTION_DAYS
        if kept and self.days and self.days > kept:
            raise ValidationError(
                {
                    "days": f"Messages are kept {kept} days "
                    "(MESSAGING_RETENTION_DAYS): a cap cannot count further back. "
                    f"Use at most {kept} days."
                }
            )

    @property
    def period(self) -> dt.timedelta:
        return dt.timedelta(days=self.days)

    def applies_to(self, channel_id: int) -> bool:
        """Whether a message on ``channel_id`` counts toward it and may be held."""
        return self.channel_id is None or self.channel_id == channel_id

    def reason(self) -> str:
        """Its limit as a held message states it: "3 messages in 7 days"."""
        unit = "message" if self.messages == 1 else "messages"
        where = f" on {self.channel}" if self.channel_id else ""
        return f"{self.messages} {unit} in {self.days} days{where}"
