"""Reads for the console: what waits for each endpoint, and what was given up."""

from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce

from .models import Delivery, Endpoint


def with_counts(endpoints: QuerySet[Endpoint]) -> QuerySet[Endpoint]:
    """``endpoints`` with ``pending`` and ``failed``: their deliveries waiting and
    given up, counted per endpoint on the endpoint/status index."""

    def counted(status: str) -> Subquery:
        return Subquery(
            Delivery.objects.filter(endpoint=OuterRef("pk"), status=status)
            .order_by()
            .values("endpoint")
            .annotate(n=Count("id"))
            .values("n")[:1],
            output_field=IntegerField(),
        )

    return endpoints.annotate(
        pending=Coalesce(counted(Delivery.Status.PENDING), 0),
        failed=Coalesce(counted(Delivery.Status.FAILED), 0),
    )
