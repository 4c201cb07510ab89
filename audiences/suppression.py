"""The suppression list (the model; audiences.suppressing adds to it): phone numbers
and email addresses that must not be messaged, whoever holds them, kept as keyed
hashes (audiences.addresses) so that they outlive the contact's erasure and stop a
re-import.

A phone entry stops the channels that reach a phone (SMS, WhatsApp, the console);
an email entry stops email. The global opt-out (Contact.opted_out_at) stops all.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone


class Suppression(models.Model):
    class Address(models.TextChoices):
        PHONE = "phone", "Phone number (SMS, WhatsApp)"
        EMAIL = "email", "Email address"

    class Reason(models.TextChoices):
        STOP = "stop", "Replied STOP"
        UNSUBSCRIBE = "unsubscribe", "Unsubscribe link"
        BOUNCE = "bounce", "Bounced"
        PROVIDER = "provider", "Provider said unsubscribed or unreachable"
        OPERATOR = "operator", "Added by an operator"
        IMPORT = "import", "Import column"

    address_kind = models.CharField(
        "kind of address", max_length=5, choices=Address.choices, default=Address.PHONE
    )
    key = models.CharField(
        max_length=32,
        editable=False,
        help_text="Keyed hash of the normalised address: the address itself is "
        "not kept.",
    )
    hint = models.CharField(
        max_length=80,
        blank=True,
        editable=False,
        help_text="Enough of the address to recognise it (+52•••••8877).",
    )
    reason = models.CharField(max_length=12, choices=Reason.choices)
    source = models.CharField(
        max_length=200,
        blank=True,
        help_text="Where it came from: the reply, the provider's answer, the "
        "import, the operator.",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "suppressed address"
        verbose_name_plural = "suppression list"
        constraints = [
            models.UniqueConstraint(
                fields=["address_kind", "key"], name="suppression_once_per_address"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.hint or self.key[:8]} ({self.get_reason_display()})"
