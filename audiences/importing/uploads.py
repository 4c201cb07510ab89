"""The size of an uploaded contact file, bounded while it streams in
(base.uploads) at IMPORT_MAX_UPLOAD_BYTES. The form then shows why the file is
missing."""

from django.conf import settings
from django.http import HttpRequest

from base.uploads import UploadLimit
from base.uploads import upload_limit_install as limit_install

from .refusals import upload_size_problem

__all__ = ["UploadLimit", "upload_limit_install"]


def upload_limit_install(request: HttpRequest) -> UploadLimit:
    """Bound the uploads of ``request``; call before its POST or FILES are read."""
    return limit_install(
        request, limit=settings.IMPORT_MAX_UPLOAD_BYTES, too_big=upload_size_problem
    )
