"""The event stream's beat task (every 10 s): deliveries past STREAM_GIVE_UP_HOURS
given up, a delivery pass queued for each endpoint with something due that no pass
holds (a pause over, a retry due, a kick the broker lost), and previous signing
secrets whose overlap ended forgotten."""

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Exists, OuterRef, Q, Value
from django.db.models.functions import Concat
from django.utils import timezone

from .delivery import give_up_after
from .emitting import endpoints_kick
from .models import Delivery, Endpoint
from .secrets import expired_secrets_drop


@dataclass
class Swept:
    given_up: int = 0
    kicked: int = 0


def deliveries_sweep(*, now: dt.datetime | None = None) -> Swept:
    now = now or timezone.now()
    swept = Swept()
    free = Q(lease_until__isnull=True) | Q(lease_until__lt=now)
    # A pass holding its endpoint records its own deliveries: leave them to it.
    swept.given_up = Delivery.objects.filter(
        status=Delivery.Status.PENDING,
        created_at__lt=now - give_up_after(),
        endpoint__in=Endpoint.objects.filter(free),
    ).update(
        status=Delivery.Status.FAILED,
        last_error=Concat(
            Value(
                f"Given up after {settings.STREAM_GIVE_UP_HOURS} hours without a 2xx "
                "answer. "
            ),
            "last_error",
        ),
    )
    due = Delivery.objects.filter(
        endpoint=OuterRef("pk"),
        status=Delivery.Status.PENDING,
        next_attempt_at__lte=now,
    )
    ready = (
        Endpoint.objects.filter(active=True)
        .filter(free)
        .filter(Q(paused_until__isnull=True) | Q(paused_until__lte=now))
        .filter(Exists(due))
        .values_list("pk", flat=True)
    )
    swept.kicked = endpoints_kick(list(ready), force=True)
    expired_secrets_drop(now=now)
    return swept
