"""The inbox's models: teams of operators, conversations with contacts, and the
answers operators send in them. Replies become conversations in messaging.inbox;
answers are written and sent by messaging.answering."""

from django.conf import settings
from django.db import models


class Team(models.Model):
    """Operators grouped to share an inbox: a batch's replies may be sent to one."""

    name = models.CharField(
        max_length=100,
        unique=True,
        help_text="What operators call the team (Sales, Support MX).",
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="inbox_teams",
        help_text="The operators who see the team's conversations in their inbox.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Conversation(models.Model):
    """The replies of one contact (or unknown sender) on one channel and the
    answers they got, from the first reply until an operator closes it."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        CLOSED = "closed", "Closed"

    contact = models.ForeignKey(
        "audiences.Contact",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="conversations",
        help_text="Who wrote; empty for a sender who is not a contact.",
    )
    channel = models.ForeignKey(
        "messaging.Channel",
        on_delete=models.CASCADE,
        related_name="+",
        help_text="Where the replies came in, and where answers go out.",
    )
    sender = models.CharField(
        max_length=254, help_text="The phone or address the replies come from."
    )
    team = models.ForeignKey(
        Team,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="conversations",
        help_text="The team whose members see it in their inbox.",
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The operator who answers it; empty: anyone of its team (or "
        "anyone, when it has no team).",
    )
    status = models.CharField(
        max_length=10,
        choices=Status.choices,
        default=Status.OPEN,
        editable=False,
        help_text="Open until an operator closes it; a reply after that opens a "
        "new conversation.",
    )
    opened_at = models.DateTimeField(
        editable=False, help_text="When its first reply came."
    )
    last_message_at = models.DateTimeField(
        editable=False, help_text="When its last reply came or its last answer left."
    )
    last_reply_at = models.DateTimeField(
        editable=False,
        help_text="When the contact last wrote (WhatsApp answers are allowed for "
        "24 hours after it).",
    )
    last_text = models.CharField(
        max_length=200,
        blank=True,
        editable=False,
        help_text="The start of its last reply or answer, for the inbox list.",
    )
    closed_at = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="When it was closed."
    )
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        help_text="Who closed it.",
    )

    class Meta:
        ordering = ["-last_message_at", "-id"]
        verbose_name = "conversation"
        verbose_name_plural = "inbox"
        constraints = [
            # Two replies taken at once continue one conversation, not two.
            models.UniqueConstraint(
                fields=["channel", "contact"],
                condition=models.Q(status="open", contact__isnull=False),
                name="conversation_open_once_per_contact",
            ),
            # A sender who is no contact: one open conversation per address.
            models.UniqueConstraint(
                fields=["channel", "sender"],
                condition=models.Q(status="open", contact__isnull=True),
                name="conversation_open_once_per_sender",
            ),
        ]
        indexes = [
            models.Index(
                fields=["status", "-last_message_at"], name="conversation_inbox_idx"
            ),
            models.Index(fields=["channel", "sender"], name="conversation_sender_idx"),
        ]

    def __str__(self) -> str:
        return f"Conversation {self.pk} with {self.contact or self.sender}"


class Answer(models.Model):
    """What an operator answered in a conversation: one message, in a batch of its
    own, sent like any other."""

    conversation = models.ForeignKey(
        Conversation,
        on_delete=models.CASCADE,
        related_name="answers",
        help_text="The conversation answered.",
    )
    batch = models.OneToOneField(
        "messaging.Batch",
        on_delete=models.CASCADE,
        related_name="answer",
        help_text="The batch its message was written in.",
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The operator who answered.",
    )
    author_name = models.CharField(
        max_length=150, help_text="The operator's user name, kept if the user goes."
    )
    body = models.TextField(help_text="The text as the operator wrote it.")
    answered_at = models.DateTimeField(help_text="When it was written.")

    class Meta:
        ordering = ["answered_at", "id"]

    def __str__(self) -> str:
        return f"Answer by {self.author_name} in conversation {self.conversation_id}"
