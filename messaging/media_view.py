"""The media library's public address: /media/<token>/<filename>.

Served by Flowcast itself, DEBUG or not: providers fetch the images a message
carries from here, without signing in. The token is random and the file never
changes, so the answer is cached for good.
"""

from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponseBase,
    HttpResponseNotModified,
)
from django.views.decorators.http import require_safe

from .templates import MediaAsset


@require_safe
def media_asset(request: HttpRequest, token: str, filename: str) -> HttpResponseBase:
    asset = MediaAsset.objects.filter(token=token, filename=filename).first()
    if asset is None:
        raise Http404("No such image.")
    etag = f'"{asset.sha256}"'
    if request.headers.get("If-None-Match") == etag:
        response: HttpResponseBase = HttpResponseNotModified()
    else:
        try:
            handle = asset.file.open("rb")
        except FileNotFoundError:
            raise Http404("The image's file is missing.") from None
        response = FileResponse(handle, content_type=asset.content_type)
        response["Content-Disposition"] = f'inline; filename="{asset.filename}"'
    response["ETag"] = etag
    response["Cache-Control"] = "public, max-age=31536000, immutable"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response
