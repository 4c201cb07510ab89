"""A paginator for tables of millions of rows: it counts at most CAP of them."""

from functools import cached_property

from django.core.paginator import Paginator
from django.db.models import QuerySet

CAP = 10_000


class CappedPaginator(Paginator):
    """Counting a million contacts of a group, or five million messages, reads
    them all on every page; this stops counting at CAP (the page then says "more
    than 10,000" and offers the first CAP rows' pages)."""

    @cached_property
    def count(self) -> int:
        rows = self.object_list
        if isinstance(rows, QuerySet):
            # SELECT count(*) FROM (… LIMIT CAP + 1): reads at most that many. Not
            # in the list's order: sorted, the first CAP rows of a filter could be
            # millions of rows down the table's only index in that order.
            return rows.order_by()[: CAP + 1].count()
        return len(rows)

    @property
    def capped(self) -> bool:
        return self.count > CAP

    @property
    def cap(self) -> int:
        return CAP
