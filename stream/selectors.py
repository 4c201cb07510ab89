"""Reads for the console: what waits for each endpoint, and what was given up."""

from collections.abc import Iterable

from django.db.models import Count

from .models import Delivery


def endpoint_counts(endpoint_ids: Iterable[int]) -> dict[int, dict[str, int]]:
    """Pending and failed deliveries per endpoint, in one grouped query (the
    endpoint/status index)."""
    found: dict[int, dict[str, int]] = {pk: {} for pk in endpoint_ids}
    rows = (
        Delivery.objects.filter(
            endpoint_id__in=list(found),
            status__in=(Delivery.Status.PENDING, Delivery.Status.FAILED),
        )
        .values_list("endpoint_id", "status")
        .annotate(n=Count("id"))
        .order_by()
    )
    for endpoint_id, status, n in rows:
        found[endpoint_id][status] = n
    return found
