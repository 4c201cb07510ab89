"""The media library: uploads checked from their bytes, kept under MEDIA_ROOT, and
served from a stable public URL."""

import hashlib
from pathlib import Path
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from base.roles import OPERATOR, VIEWER
from messaging.media import MediaRefused, media_asset_upload, media_public_url
from messaging.models import MediaAsset
from tests.messaging.images import GIF, HTML, JPEG, SVG, WEBP, png

pytestmark = pytest.mark.django_db


@pytest.fixture
def media_root(settings: Any, tmp_path: Path) -> Path:
    """A MEDIA_ROOT of the test's own: nothing is written into var/."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return Path(settings.MEDIA_ROOT)


def upload(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


def stored(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


@pytest.mark.parametrize(
    ("data", "content_type", "extension"),
    [
        (png(), "image/png", "png"),
        (JPEG, "image/jpeg", "jpg"),
        (GIF, "image/gif", "gif"),
        (WEBP, "image/webp", "webp"),
    ],
)
def test_an_image_is_kept_by_what_its_bytes_say_whatever_its_name(
    media_root: Path, data: bytes, content_type: str, extension: str
) -> None:
    asset = media_asset_upload(name="Banner", upload=upload("Mi foto (1).bin", data))

    assert asset.content_type == content_type
    assert asset.filename == f"Mi-foto-1.{extension}"
    assert asset.size == len(data)
    assert asset.sha256 == hashlib.sha256(data).hexdigest()
    assert len(asset.token) >= 20
    kept = stored(media_root)
    assert len(kept) == 1
    assert kept[0].read_bytes() == data
    assert kept[0].parent.name == asset.token


def test_an_image_over_the_limit_is_refused_naming_the_limit(
    media_root: Path, settings: Any
) -> None:
    settings.MEDIA_MAX_BYTES = 1000
    with pytest.raises(MediaRefused) as refused:
        media_asset_upload(name="Big", upload=upload("big.png", png(padding=2000)))

    assert "big.png is larger than the 1,000 bytes" in str(refused.value)
    assert "MEDIA_MAX_BYTES" in str(refused.value)
    assert not MediaAsset.objects.exists()
    assert stored(media_root) == []


@pytest.mark.parametrize(
    ("data", "said"),
    [
        (b"just some text, not a picture", "not an image Flowcast can serve"),
        (SVG, "an SVG drawing"),
        (HTML, "an HTML page"),
        (b"", "empty"),
    ],
)
def test_what_is_no_png_jpeg_gif_or_webp_is_refused_even_when_named_png(
    media_root: Path, data: bytes, said: str
) -> None:
    with pytest.raises(MediaRefused) as refused:
        media_asset_upload(name="Fake", upload=upload("photo.png", data))

    assert str(refused.value).startswith("photo.png is not a PNG, JPEG, GIF or WebP")
    assert said in str(refused.value)
    assert not MediaAsset.objects.exists()
    assert stored(media_root) == []


def test_the_stable_url_serves_the_bytes_with_their_type_and_cache_headers(
    media_root: Path, client: Client, settings: Any
) -> None:
    assert settings.DEBUG is False
    data = png(3, 1)
    asset = media_asset_upload(name="Logo", upload=upload("logo.png", data))

    response = client.get(asset.path)

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == data  # type: ignore[attr-defined]
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "immutable" in response["Cache-Control"]
    assert response["ETag"] == f'"{asset.sha256}"'
    assert asset.path == f"/media/{asset.token}/logo.png"
    again = client.get(asset.path, headers={"If-None-Match": response["ETag"]})
    assert again.status_code == 304
    # Another name, another token or a write is no way in.
    assert client.get(f"/media/{asset.token}/other.png").status_code == 404
    assert client.get(f"/media/{'x' * 24}/logo.png").status_code == 404
    assert client.post(asset.path).status_code == 405


def test_the_public_url_is_made_with_flowcast_public_url(
    media_root: Path, settings: Any
) -> None:
    asset = media_asset_upload(name="Logo", upload=upload("logo.gif", GIF))
    settings.FLOWCAST_PUBLIC_URL = ""
    assert media_public_url(asset) == asset.path
    settings.FLOWCAST_PUBLIC_URL = "https://flowcast.example.com/"
    assert media_public_url(asset) == (
        f"https://flowcast.example.com/media/{asset.token}/logo.gif"
    )


def test_an_operator_uploads_an_image_in_the_admin_and_gets_its_url(
    media_root: Path, client: Client, make_user: Any, settings: Any
) -> None:
    settings.FLOWCAST_PUBLIC_URL = "https://flowcast.example.com"
    client.force_login(make_user(OPERATOR))
    data = png()

    response = client.post(
        reverse("admin:messaging_mediaasset_add"),
        {"name": "Spring banner", "file": upload("spring.png", data)},
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    asset = MediaAsset.objects.get()
    assert (asset.name, asset.filename, asset.size) == (
        "Spring banner",
        "spring.png",
        len(data),
    )
    assert asset.created_by is not None
    assert asset.created_by.username == "operator"
    page = client.get(
        reverse("admin:messaging_mediaasset_change", args=[asset.pk])
    ).content.decode()
    assert f'value="https://flowcast.example.com{asset.path}"' in page
    assert f'<img src="{asset.path}"' in page
    listing = client.get(reverse("admin:messaging_mediaasset_changelist"))
    assert f'<img src="{asset.path}"' in listing.content.decode()


def test_the_admin_refuses_a_disguised_file_and_keeps_nothing(
    media_root: Path, admin_client: Client
) -> None:
    response = admin_client.post(
        reverse("admin:messaging_mediaasset_add"),
        {"name": "Fake", "file": upload("photo.png", SVG)},
    )

    assert response.status_code == 200
    assert "photo.png is not a PNG, JPEG, GIF or WebP image" in (
        response.content.decode()
    )
    assert not MediaAsset.objects.exists()
    assert stored(media_root) == []


def test_the_admin_drops_an_upload_over_the_limit_while_it_streams_in(
    media_root: Path, admin_client: Client, settings: Any, tmp_path: Path
) -> None:
    settings.MEDIA_MAX_BYTES = 50_000
    # Over Django's in-memory size: it would be written to a temporary file.
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path)
    big = png(padding=3_000_000)

    response = admin_client.post(
        reverse("admin:messaging_mediaasset_add"),
        {"name": "Huge", "file": upload("huge.png", big)},
    )

    assert response.status_code == 200
    page = response.content.decode()
    assert "huge.png is larger than the 50,000 bytes" in page
    assert "Its upload was stopped at the limit." in page
    assert not MediaAsset.objects.exists()
    assert stored(media_root) == []
    assert [p for p in tmp_path.iterdir() if p.name != "media"] == []


def test_a_viewer_cannot_upload(
    media_root: Path, client: Client, make_user: Any
) -> None:
    client.force_login(make_user(VIEWER))

    response = client.post(
        reverse("admin:messaging_mediaasset_add"),
        {"name": "Nope", "file": upload("a.png", png())},
    )

    assert response.status_code == 403
    assert not MediaAsset.objects.exists()
    assert stored(media_root) == []


def test_the_uploaded_image_cannot_be_replaced_only_renamed(
    media_root: Path, admin_client: Client
) -> None:
    asset = media_asset_upload(name="Logo", upload=upload("logo.png", png()))
    url = reverse("admin:messaging_mediaasset_change", args=[asset.pk])

    response = admin_client.post(
        url, {"name": "Logo 2024", "file": upload("other.gif", GIF)}
    )

    assert response.status_code == 302
    assert [str(m) for m in get_messages(response.wsgi_request)]
    asset.refresh_from_db()
    assert (asset.name, asset.filename, asset.content_type) == (
        "Logo 2024",
        "logo.png",
        "image/png",
    )
    assert len(stored(media_root)) == 1


def test_the_upload_form_still_checks_the_csrf_token(
    media_root: Path, make_user: Any
) -> None:
    # The views are csrf_exempt for the site and the middleware only so that the
    # size limit is in place before the body is read; the form view checks.
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_user(OPERATOR))

    response = client.post(
        reverse("admin:messaging_mediaasset_add"),
        {"name": "Forged", "file": upload("a.png", png())},
    )

    assert response.status_code == 403
    assert not MediaAsset.objects.exists()
    assert stored(media_root) == []


def test_an_unused_image_is_deleted_with_its_file(
    media_root: Path, admin_client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    asset = media_asset_upload(name="Old", upload=upload("old.png", png()))
    assert len(stored(media_root)) == 1
    url = reverse("admin:messaging_mediaasset_delete", args=[asset.pk])

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(url, {"post": "yes"})

    assert response.status_code == 302
    assert not MediaAsset.objects.exists()
    assert stored(media_root) == []
    assert Client().get(asset.path).status_code == 404
