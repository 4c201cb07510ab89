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
