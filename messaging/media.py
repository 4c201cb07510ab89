"""The media library: images uploaded by operators, checked, kept and addressed.

An upload is untrusted: it is bounded while it streams in (MediaUploadLimit), its
type is read from its bytes (PNG, JPEG, GIF or WebP; an SVG or an HTML page named
.png is refused), and it is stored under a name Flowcast makes, in a folder named
by a random token. Providers fetch it from FLOWCAST_PUBLIC_URL + its path.
"""

import hashlib
import re
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.db import transaction
from django.http import HttpRequest

from base.audit import audit_record
from base.uploads import UploadLimit, upload_limit_install

from .templates import MediaAsset, TemplateVersion

# The types served, by the file name extension they are given.
MEDIA_TYPES = {
    "image/png": "png",
    "image/jpeg": "jpg",
    "image/gif": "gif",
    "image/webp": "webp",
}
KINDS = "PNG, JPEG, GIF or WebP"


class MediaRefused(Exception):
    """The file cannot be kept; the text says why, naming the file."""


def media_sniff(head: bytes) -> str | None:
    """The image type the first bytes of a file say it is, or None."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


def _seems(head: bytes) -> str:
    """What a refused file looks like, for the refusal."""
    text = head[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if b"<svg" in text or (text.startswith(b"<?xml") and b"svg" in text):
        return "an SVG drawing (SVG can carry scripts, so it is not served)"
    if text.startswith((b"<!doctype html", b"<html")) or b"<script" in text:
        return "an HTML page"
    if head.startswith(b"%PDF"):
        return "a PDF document"
    if not head:
        return "empty"
    return "not an image Flowcast can serve"


def size_text(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MB" if size >= 100_000 else f"{size:,} bytes"


def too_big(name: str, limit: int) -> str:
    return (
        f"{name} is larger than the {size_text(limit)} an image may be "
        "(MEDIA_MAX_BYTES); it was not kept. Make it smaller and upload it again."
    )


def safe_filename(name: str, content_type: str) -> str:
    """The file's name in its URL: letters, digits, dots, dashes and underscores of
    the uploaded name, with the extension of its real type."""
    stem = name.rsplit("/", 1)[-1].rsplit("\\", 1)[-1].rsplit(".", 1)[0]
    stem = re.sub(r"[^A-Za-z0-9_-]+", "-", stem).strip("-_")[:60] or "image"
    return f"{stem}.{MEDIA_TYPES[content_type]}"


def media_check(upload: Any) -> tuple[str, bytes]:
    """The image type and bytes of ``upload`` (a Django File).

    Raises MediaRefused when it is too big (MEDIA_MAX_BYTES) or not a PNG, JPEG,
    GIF or WebP image by its bytes.
    """
    limit: int = settings.MEDIA_MAX_BYTES
    shown = getattr(upload, "name", None) or "The file"
    if upload.size is not None and upload.size > limit:
        raise MediaRefused(too_big(shown, limit))
    upload.seek(0)
    data = upload.read(limit + 1)
    upload.seek(0)
    if len(data) > limit:
        raise MediaRefused(too_big(shown, limit))
    content_type = media_sniff(data[:16])
    if content_type is None:
        raise MediaRefused(
            f"{shown} is not a {KINDS} image: its content is {_seems(data)}. "
            "Only those image types are kept, whatever the file's name says."
        )
    return content_type, data


def media_asset_prepare(asset: MediaAsset, upload: Any) -> None:
    """Check ``upload`` and make it the file of the unsaved ``asset``, under a name
    Flowcast makes; saving the asset stores it. Raises MediaRefused."""
    content_type, data = media_check(upload)
    shown = getattr(upload, "name", None) or "image"
    asset.filename = safe_filename(shown, content_type)
    asset.content_type = content_type
    asset.size = len(data)
    asset.sha256 = hashlib.sha256(data).hexdigest()
    asset.file = ContentFile(data, name=asset.filename)
    if not asset.name.strip():
        asset.name = shown[:100]


def media_asset_upload(
    *, name: str, upload: Any, actor: User | None = None
) -> MediaAsset:
    """Keep ``upload`` as a new asset named ``name``; raises MediaRefused (see
    media_check)."""
    asset = MediaAsset(name=name.strip()[:100], created_by=actor)
    media_asset_prepare(asset, upload)
    with transaction.atomic():
        asset.save()
        audit_record(
            action="create",
            target=asset,
            note=f"{asset.filename}, {asset.content_type}, {size_text(asset.size)}",
            actor=actor,
        )
    return asset


def media_asset_delete(*, asset: MediaAsset, actor: User | None = None) -> None:
    """Delete the asset and, once that is committed, its file. Refused (MediaRefused)
    while a template version, a flow step or a published flow version sends it."""
    used = media_users(asset)
    if used:
        raise MediaRefused(
            f"Image {asset.name!r} is still sent by: {'; '.join(used)}. Choose "
            "another image there first."
        )
    stored, storage = asset.file.name, asset.file.storage
    with transaction.atomic():
        audit_record(action="delete", target=asset, note=asset.filename, actor=actor)
        asset.delete()
        if stored:
            transaction.on_commit(lambda: storage.delete(stored))


def media_public_url(asset: MediaAsset) -> str:
    """The address providers fetch the image from: FLOWCAST_PUBLIC_URL and its
    path, or the path alone when the public URL is not set."""
    base = (settings.FLOWCAST_PUBLIC_URL or "").rstrip("/")
    return f"{base}{asset.path}"


# The media form's upload handler: base.uploads' limit at MEDIA_MAX_BYTES.
MediaUploadLimit = UploadLimit


def _too_big(name: str, limit: int) -> str:
    return too_big(name, limit) + " Its upload was stopped at the limit."


def media_upload_limit_install(request: HttpRequest) -> MediaUploadLimit:
    """Bound the uploads of ``request``; call before its POST or FILES are read."""
    return upload_limit_install(
        request, limit=settings.MEDIA_MAX_BYTES, too_big=_too_big
    )


# Whoever sends images names, in words, what uses an asset ("Flow Welcome, step
# 2"); filled in AppConfig.ready() by the apps above messaging. An asset in use
# is not deleted.
media_user_finders: list[Callable[[MediaAsset], list[str]]] = []


def media_users(asset: MediaAsset) -> list[str]:
    """What sends ``asset``, in words: template versions, and what the apps above
    say."""
    versions = TemplateVersion.objects.filter(media=asset).select_related("template")
    used = [f"Template {v.template.name}, version {v.number}" for v in versions]
    return used + [found for finder in media_user_finders for found in finder(asset)]
