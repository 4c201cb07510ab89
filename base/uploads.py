"""An upload bounded while it streams in.

Django writes an upload to a temporary file as it arrives; this handler, put before
Django's own, counts the bytes of every file of the request and drops the file once
they pass the limit: the rest of the request is read and thrown away, never stored.
Only the form's own field is kept. ``problem`` then says why the file is missing.
"""

from collections.abc import Callable
from typing import Any

from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.http import HttpRequest


class UploadLimit(FileUploadHandler):
    """The limit is the request's: every file of it counts, and none is kept but
    the form's own (FIELD)."""

    FIELD = "file"

    def __init__(
        self,
        request: HttpRequest | None = None,
        *,
        limit: int,
        too_big: Callable[[str, int], str],
    ) -> None:
        super().__init__(request)
        self.limit = limit
        self.too_big = too_big  # the refusal, from the file's name and the limit
        self.received = 0  # bytes of every file of the request so far
        self.problem = ""  # why a file was dropped, for the form

    def new_file(self, field_name: str, *args: Any, **kwargs: Any) -> None:
        super().new_file(field_name, *args, **kwargs)
        if field_name != self.FIELD:
            raise SkipFile  # read past and thrown away, never stored

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        self.received += len(raw_data)
        if self.received > self.limit:
            self.problem = self.too_big(self.file_name or "The file", self.limit)
            raise SkipFile
        return raw_data

    def file_complete(self, file_size: int) -> Any:
        return None  # the next handler keeps the file


def upload_limit_install(
    request: HttpRequest, *, limit: int, too_big: Callable[[str, int], str]
) -> UploadLimit:
    """Bound the uploads of ``request``; call before its POST or FILES are read."""
    handler = UploadLimit(request, limit=limit, too_big=too_big)
    # Django refuses the assignment once the body has been read.
    request.upload_handlers = [handler, *request.upload_handlers]
    return handler
