"""A reply received on a channel (the model; recording one is messaging.receipts)."""

import datetime as dt
from collections.abc import Callable

from django.db import models
from django.utils import timezone


class InboundMessage(models.Model):
    """A reply received on a channel. Replies that say STOP opt the sender out."""

    channel = models.ForeignKey(
        "messaging.Channel", on_delete=models.CASCADE, related_name="+"
    )
    contact = models.ForeignKey(
        "audiences.Contact",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="replies",
    )
    sender = models.CharField(
        max_length=254, help_text="The phone or address it came from."
    )
    body = models.TextField(blank=True)
    provider_id = models.CharField(max_length=200, blank=True)
    opted_out = models.BooleanField(
        default=False, help_text="This reply was an opt-out keyword (STOP, ...)."
    )
    keyword = models.CharField(
        max_length=5,
        blank=True,
        help_text="The channel's keyword this reply was: stop, start or help.",
    )
    taken_by_flow = models.BooleanField(
        "answered by a flow",
        default=False,
        help_text="A flow was waiting for this reply and moved the contact on.",
    )
    received_at = models.DateTimeField(default=timezone.now, editable=False)
    conversation = models.ForeignKey(
        "messaging.Conversation",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="replies",
        help_text="The inbox conversation it opened or continued; empty for an "
        "opt-out or a reply a flow took.",
    )

    class Meta:
        ordering = ["-received_at"]
        verbose_name = "reply"
        verbose_name_plural = "replies"
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "provider_id"],
                condition=~models.Q(provider_id=""),
                name="inbound_once_per_provider_id",
            ),
        ]
        # The replies list, newest first, without sorting them all.
        indexes = [models.Index(fields=["-received_at"], name="inbound_received_idx")]

    def __str__(self) -> str:
        return f"Reply from {self.sender}"


# Asked, in order, whether they take a reply just stored (not an opt-out, from a
# known contact): a flow waiting for it (flows fills this in its ready()). Each
# returns True when it took the reply.
reply_takers: list[Callable[[InboundMessage, dt.datetime], bool]] = []
