import hashlib
import secrets

from django.conf import settings
from django.db import models


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class ApiToken(models.Model):
    """A key for scripts and other systems calling /api/…; it acts as its user.

    Only a digest of the key is stored: the key is shown once, when created.
    """

    name = models.CharField(
        max_length=100, help_text="What uses this key, e.g. 'shop backend'."
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="api_tokens",
        help_text="The key acts with this user's permissions.",
    )
    prefix = models.CharField(max_length=8, editable=False, db_index=True)
    digest = models.CharField(max_length=64, editable=False, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked = models.BooleanField(
        default=False, help_text="A revoked key is refused from then on."
    )

    class Meta:
        ordering = ["name"]
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    def issue_key(self) -> str:
        """Give the token a new key; return it (it cannot be read back later)."""
        key = "fc_" + secrets.token_urlsafe(32)
        self.prefix = key[:8]
        self.digest = key_digest(key)
        return key


class IdempotentRequest(models.Model):
    """A write sent with an Idempotency-Key, and the answer it got: the same key
    again gets that answer, and nothing is done twice. Written in the transaction
    of the write itself, so a key is kept only for a write that happened; kept
    API_IDEMPOTENCY_HOURS."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(
        max_length=64, help_text="SHA-256 of the request's path and canonical JSON."
    )
    status_code = models.PositiveSmallIntegerField(null=True)
    response = models.JSONField(null=True)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "key"], name="idempotentrequest_once_per_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.key} ({self.status_code})"
