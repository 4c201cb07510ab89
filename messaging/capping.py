"""Holding marketing messages a frequency cap stops (messaging.caps), until the
contact is under the cap again.

Checked set-wise per claimed chunk, just before sending: for the chunk's contacts
one grouped query counts, per contact and channel, their marketing messages gone
out within each cap's days and those other workers hold right now; within the
chunk a contact's messages go in id order until a cap is reached. A held message
is given back deferred (its attempt not spent) to when the oldest counted message
leaves the window, and says so in its error: "capped until 2026-12-09 10:00 UTC
(3 messages in 7 days)". Sending it clears that; its batch's stop cancels it.

Why other workers' claims count: a claim commits before its chunk is checked, so
of two workers sending to the same contact at once (two campaigns' chunks) the one
that checks last sees the other's claim, or the message it sent, and never both
send over the cap. When both check at once, each sees the other's claim and both
wait a minute or two (a random part, so that they do not meet again), then count
again: holding one too many for a moment is the safe way round.
"""

import datetime as dt
import functools
import operator
import random
import uuid
from collections import Counter
from collections.abc import Iterable
from typing import Any

from django.db.models import Case, Count, F, Min, Q, QuerySet, Value, When

from audiences.models import Contact

from .batches import NOT_MARKETING
from .caps import FrequencyCap
from .models import Batch, Message

# What counts as gone out to the contact.
GONE_OUT = (Message.Status.SENT, Message.Status.DELIVERED)
UNSENT = (Message.Status.QUEUED, Message.Status.DEFERRED)
# A held message waits at least this long: the time to let the sends of other
# workers that made the count finish, before counting again.
SHORTEST_HOLD = dt.timedelta(minutes=1)


def marketing() -> Q:
    """Messages of marketing batches (Batch.is_marketing), as a condition."""
    return functools.reduce(
        operator.and_, (~Q(batch__tags__has_key=tag) for tag in sorted(NOT_MARKETING))
    )


def caps_enabled() -> list[FrequencyCap]:
    return list(FrequencyCap.objects.filter(enabled=True).select_related("channel"))


def capped_text(until: dt.datetime) -> str:
    """How a held message's error starts: "capped until 2026-12-09 10:00 UTC"."""
    return f"capped until {until.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC"


def capped_until(message: Message) -> dt.datetime | None:
    """When a deferred ``message`` held by a cap may go, or None when it is not
    held by one (deferred for active hours since, or never capped)."""
    if (
        message.status != Message.Status.DEFERRED
        or message.not_before is None
        or message.claim_token is not None  # being sent
    ):
        return None
    if message.error.startswith(capped_text(message.not_before)):
        return message.not_before
    return None


def _tallies(
    contact_ids: Iterable[int],
    caps: list[FrequencyCap],
    token: uuid.UUID,
    now: dt.datetime,
) -> dict[tuple[int, int], dict[str, Any]]:
    """Per (contact, channel): their marketing messages gone out within each cap's
    days ("sent_<days>", the oldest as "oldest_<days>") and those other workers
    hold ("claimed"). One grouped query on the messages' contact index."""
    longest = max(cap.period for cap in caps)
    counted: dict[str, Any] = {
        "claimed": Count("pk", filter=Q(claim_token__isnull=False))
    }
    for days in {cap.days for cap in caps}:
        within = Q(sent_at__gte=now - dt.timedelta(days=days), status__in=GONE_OUT)
        counted[f"sent_{days}"] = Count("pk", filter=within)
        counted[f"oldest_{days}"] = Min("sent_at", filter=within)
    gone_out = Q(status__in=GONE_OUT, sent_at__gte=now - longest)
    held_elsewhere = Q(status__in=UNSENT, claim_token__isnull=False) & ~Q(
        claim_token=token
    )
    rows = (
        Message.objects.filter(marketing(), gone_out | held_elsewhere)
        .filter(contact_id__in=list(contact_ids))
        .order_by()
        .values("contact_id", "channel_id")
        .annotate(**counted)
    )
    return {(row["contact_id"], row["channel_id"]): row for row in rows}


def _held_until(
    cap: FrequencyCap,
    rows: list[dict[str, Any]],
    allowed: int,
    now: dt.datetime,
) -> dt.datetime | None:
    """When one more message in ``cap``'s scope may go, given the ``rows`` of its
    contact in that scope and ``allowed`` messages let through in this chunk; None
    when it may go now."""
    sent = sum(row[f"sent_{cap.days}"] for row in rows)
    in_flight = sum(row["claimed"] for row in rows) + allowed
    if sent + in_flight < cap.messages:
        return None
    if sent < cap.messages:
        # Sends still in flight fill the cap: count again once they are done.
        # Two workers that each saw the other's claim both wait; a random part
        # keeps them from meeting again at the next sweep.
        return now + SHORTEST_HOLD + dt.timedelta(seconds=random.uniform(0, 120))
    oldest = min(row[f"oldest_{cap.days}"] for row in rows if row[f"oldest_{cap.days}"])
    # Under the cap when the oldest counted message leaves the window (when a cap
    # was lowered, more may have to: counted again then).
    return max(oldest + cap.period, now + SHORTEST_HOLD)


def caps_hold(
    *, batch: Batch, messages: list[Message], token: uuid.UUID, now: dt.datetime
) -> tuple[list[Message], int]:
    """Hold the claimed ``messages`` (under ``token``) that an enabled cap stops,
    deferred until the contact is under it again, their attempt not spent. Return
    the messages still to send and how many were held. Transactional sends and
    the console's answers are never held."""
    if not messages or not batch.is_marketing:
        return messages, 0
    caps = caps_enabled()
    if not caps:
        return messages, 0
    tallies = _tallies({m.contact_id for m in messages}, caps, token, now)
    by_contact: dict[int, list[tuple[int, dict[str, Any]]]] = {}
    for (contact_id, channel_id), row in tallies.items():
        by_contact.setdefault(contact_id, []).append((channel_id, row))
    allowed: Counter[tuple[int, int]] = Counter()  # (cap, contact) -> let through
    kept: list[Message] = []
    held: dict[int, tuple[dt.datetime, str]] = {}
    for message in sorted(messages, key=lambda m: m.pk):
        applying = [cap for cap in caps if cap.applies_to(message.channel_id)]
        latest: tuple[dt.datetime, str] | None = None
        for cap in applying:
            rows = [
                row
                for channel_id, row in by_contact.get(message.contact_id, [])
                if cap.applies_to(channel_id)
            ]
            until = _held_until(cap, rows, allowed[cap.pk, message.contact_id], now)
            if until is not None and (latest is None or until > latest[0]):
                latest = (until, cap.reason())
        if latest is None:
            kept.append(message)
            for cap in applying:
                allowed[cap.pk, message.contact_id] += 1
        else:
            held[message.pk] = latest
    if not held:
        return messages, 0
    count = Message.objects.filter(pk__in=list(held), claim_token=token).update(
        status=Message.Status.DEFERRED,
        not_before=Case(
            *(When(pk=pk, then=Value(until)) for pk, (until, _) in held.items())
        ),
        error=Case(
            *(
                When(pk=pk, then=Value(f"{capped_text(until)} ({reason})"))
                for pk, (until, reason) in held.items()
            )
        ),
        reported_status="",
        attempts=F("attempts") - 1,
        claim_token=None,
        lease_until=None,
    )
    kept_ids = {m.pk for m in kept}
    return [m for m in messages if m.pk in kept_ids], count


def contacts_capped_count(
    *,
    contacts: "QuerySet[Contact]",
    channel_ids: Iterable[int] | None,
    now: dt.datetime,
) -> int:
    """How many of ``contacts`` a cap would hold now for a marketing message on
    ``channel_ids`` (None: on any channel): those with as many marketing messages
    gone out within a cap's days as it allows. One grouped query."""
    caps = caps_enabled()
    if channel_ids is not None:
        wanted = set(channel_ids)
        caps = [
            cap for cap in caps if cap.channel_id is None or cap.channel_id in wanted
        ]
    if not caps:
        return 0
    counts = {
        f"cap_{cap.pk}": Count(
            "pk",
            filter=Q(sent_at__gte=now - cap.period)
            & (Q(channel_id=cap.channel_id) if cap.channel_id else Q()),
        )
        for cap in caps
    }
    at_a_cap = functools.reduce(
        operator.or_, (Q(**{f"cap_{cap.pk}__gte": cap.messages}) for cap in caps)
    )
    longest = max(cap.period for cap in caps)
    return (
        Message.objects.filter(
            marketing(),
            status__in=GONE_OUT,
            sent_at__gte=now - longest,
            contact_id__in=contacts.order_by().values("pk"),
        )
        .order_by()
        .values("contact_id")
        .annotate(**counts)
        .filter(at_a_cap)
        .count()
    )
