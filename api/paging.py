"""Lists page with a cursor: each page names the next and the previous one, stable
while rows are added (no row is shown twice or skipped, unlike page numbers)."""

from django.conf import settings
from rest_framework.pagination import CursorPagination


class CursorPage(CursorPagination):
    page_size_query_param = "limit"
    # Every list is ordered by a unique key, newest first unless the view says.
    ordering = "-id"

    @property
    def max_page_size(self) -> int:  # type: ignore[override]
        return int(settings.API_PAGE_MAX)
