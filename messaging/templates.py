"""The content library: reusable message templates, kept as immutable versions,
and the images of the media library.

Flow steps name a template or an image instead of typing the text or a URL;
publishing a flow copies the template's current version into the published
version (it keeps sending that text after the template changes). The rules live in
messaging.templating and messaging.media.
"""

import secrets

from django.conf import settings
from django.db import models


class MessageTemplate(models.Model):
    name = models.CharField(
        max_length=100,
        unique=True,
        help_text="How flow steps and operators find it, e.g. Welcome (SMS).",
    )
    # Not choices=Channel.Kind: messaging.models imports this module. The admin's
    # form and templating.template_kind_problem hold it to Channel.Kind.
    channel_kind = models.CharField(
        "for channels of kind",
        max_length=10,
        blank=True,
        help_text="The kind of channel the text is written for (SMS, WhatsApp, "
        "email …); a step on a channel of another kind cannot use it. Empty: any.",
    )
    channel = models.ForeignKey(
        "messaging.Channel",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Only for steps that send on this channel (optional).",
    )
    description = models.CharField(
        max_length=255, blank=True, help_text="What it says and when it is used."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        # Not messaging_messagetemplate: checks that a page reads nothing of the
        # messages table look for "messaging_message" in its SQL.
        db_table = "messaging_template"

    def __str__(self) -> str:
        return self.name


class TemplateVersion(models.Model):
    """One text of a template, never changed once written: editing the template
    writes the next version, and published flow versions keep the one they pinned."""

    template = models.ForeignKey(
        MessageTemplate, on_delete=models.CASCADE, related_name="versions"
    )
    number = models.PositiveIntegerField()
    body = models.TextField(
        help_text="The message text; {{NOMBRE}} and {{NOMBRE|fallback}} as in steps."
    )
    media = models.ForeignKey(
        "messaging.MediaAsset",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="An image of the media library sent with the text (optional).",
    )
    media_url = models.URLField(
        "image or media URL",
        blank=True,
        help_text="Or the address of an image, video or file sent with the text.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["template", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["template", "number"], name="templateversion_unique_number"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.template} v{self.number}"


def new_token() -> str:
    return secrets.token_urlsafe(18)


def asset_path(asset: "MediaAsset", filename: str) -> str:
    """Where the file is kept under MEDIA_ROOT: its token's folder, its safe name."""
    return f"library/{asset.token}/{asset.filename}"


class MediaAsset(models.Model):
    """An uploaded image, served from a URL that never changes (its token and file
    name): the file is never replaced, so the URL is cached for good."""

    name = models.CharField(
        max_length=100, help_text="How operators find it, e.g. Spring banner."
    )
    file = models.FileField(
        upload_to=asset_path,
        max_length=255,
        help_text="A PNG, JPEG, GIF or WebP image, at most MEDIA_MAX_BYTES (5 MB "
        "unless set). Checked from its bytes, whatever its name says; it cannot be "
        "replaced later (upload a new one).",
    )
    filename = models.CharField(
        max_length=100, editable=False, help_text="The file's name in its URL."
    )
    content_type = models.CharField(max_length=20, editable=False)
    size = models.PositiveIntegerField(editable=False, help_text="In bytes.")
    sha256 = models.CharField(max_length=64, editable=False, db_index=True)
    token = models.CharField(
        max_length=32, unique=True, editable=False, default=new_token
    )
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )

    class Meta:
        ordering = ["name", "-id"]
        verbose_name = "media image"

    def __str__(self) -> str:
        return self.name

    @property
    def path(self) -> str:
        """Its URL on this site, without the host."""
        return f"{settings.MEDIA_URL}{self.token}/{self.filename}"
