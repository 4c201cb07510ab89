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

from django.db import connection, transaction
from django.db.models import Count, Min, Q, QuerySet
from django.utils import timezone

from audiences.models import Contact
from base.sql import pg_setting

from .batches import NOT_MARKETING
from .caps import FrequencyCap
from .models import Batch, Message
from .outbox import UNSENT

# What counts as gone out to the contact.
GONE_OUT = (Message.Status.SENT, Message.Status.DELIVERED)
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


def capped_error_shown(message: Message) -> str:
    """A message's error as an operator reads it: a cap's hold (stored in UTC, which
    capped_until() matches) told in the operator's zone."""
    until = capped_until(message)
    if until is None:
        return message.error
    shown = f"capped until {timezone.localtime(until):%Y-%m-%d %H:%M %Z}"
    return message.error.replace(capped_text(until), shown, 1)


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
    if connection.vendor == "postgresql":
        return _tallies_probed(list(contact_ids), caps, token, now)
    rows = (
        Message.objects.filter(marketing(), gone_out | held_elsewhere)
        .filter(contact_id__in=list(contact_ids))
        .order_by()
        .values("contact_id", "channel_id")
        .annotate(**counted)
    )
    return {(row["contact_id"], row["channel_id"]): row for row in rows}


def _tallies_probed(
    contact_ids: list[int],
    caps: list[FrequencyCap],
    token: uuid.UUID,
    now: dt.datetime,
) -> dict[tuple[int, int], dict[str, Any]]:
    """_tallies on PostgreSQL: the messages of each contact found by the contact
    index, one probe per contact (a LATERAL subquery). Written as an IN list or a
    plain join, the planner scanned the whole messages table for every chunk (a
    million rows, in parallel workers) once it held a big fan-out."""
    longest = max(cap.period for cap in caps)
    every_days = sorted({cap.days for cap in caps})
    counts = ", ".join(
        "count(*) FILTER (WHERE m.status IN (%s, %s) AND m.sent_at >= %s), "
        "min(m.sent_at) FILTER (WHERE m.status IN (%s, %s) AND m.sent_at >= %s)"
        for _ in every_days
    )
    count_params: list[Any] = []
    for days in every_days:
        since = now - dt.timedelta(days=days)
        count_params += [*GONE_OUT, since] * 2
    is_not_marketing = " OR ".join(f"b.tags ? '{tag}'" for tag in sorted(NOT_MARKETING))
    # Without JIT: the planner expects hundreds of messages per contact (from the
    # contact index's statistics), so the query's cost passes jit_above_cost, and
    # compiling it took 190 ms of every chunk's 5 ms query (the cap cost half the
    # sending rate at 300,000 contacts).
    with (
        transaction.atomic(),
        connection.cursor() as cursor,
        pg_setting(cursor, "jit", "off"),
    ):
        cursor.execute(
            f"""
            SELECT m.contact_id, m.channel_id, count(m.claim_token), {counts}
            FROM unnest(%s::bigint[]) AS c(id)
            -- OFFSET 0 keeps the subquery whole: pulled up into a plain join,
            -- the planner hashed a scan of the whole messages table instead of
            -- looking up each contact's few messages by the contact index.
            CROSS JOIN LATERAL (
                SELECT contact_id, channel_id, claim_token, status, sent_at
                FROM {Message._meta.db_table} m
                WHERE contact_id = c.id
                  AND ((status IN (%s, %s) AND sent_at >= %s)
                       OR (status IN (%s, %s) AND claim_token IS NOT NULL
                           AND claim_token <> %s))
                  -- Marketing only, asked of each message found (by the batch's
                  -- key), never as a join the planner could start from.
                  AND NOT EXISTS (
                      SELECT 1 FROM {Batch._meta.db_table} b
                      WHERE b.id = m.batch_id AND ({is_not_marketing}))
                OFFSET 0
            ) m
            GROUP BY m.contact_id, m.channel_id
            """,
            [
                *count_params,
                contact_ids,
                *GONE_OUT,
                now - longest,
                *UNSENT,
                token,
            ],
        )
        found = cursor.fetchall()
    tallies = {}
    for contact_id, channel_id, claimed, *rest in found:
        row: dict[str, Any] = {"contact_id": contact_id, "claimed": claimed}
        for index, days in enumerate(every_days):
            row[f"sent_{days}"] = rest[2 * index]
            row[f"oldest_{days}"] = rest[2 * index + 1]
        tallies[contact_id, channel_id] = row
    return tallies


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
    seen: set[int] = set()
    held: dict[int, tuple[dt.datetime, str]] = {}
    for message in sorted(messages, key=lambda m: m.pk):
        if message.contact_id not in by_contact and message.contact_id not in seen:
            # Nothing counted for the contact and its first message here: every
            # cap allows one (messages >= 1).
            seen.add(message.contact_id)
            kept.append(message)
            for cap in caps:
                if cap.applies_to(message.channel_id):
                    allowed[cap.pk, message.contact_id] += 1
            continue
        seen.add(message.contact_id)
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
    count = _defer_held(held, token)
    kept_ids = {m.pk for m in kept}
    return [m for m in messages if m.pk in kept_ids], count


def _defer_held(held: dict[int, tuple[dt.datetime, str]], token: uuid.UUID) -> int:
    """Give back the held messages deferred, each to its own time and saying why,
    their attempt not spent: one UPDATE … FROM (VALUES …) per 500 (building a
    CASE per message through the ORM cost more than sending them)."""
    table = Message._meta.db_table
    token_value = Message._meta.get_field("claim_token").get_db_prep_value(
        token, connection
    )
    cast = "::timestamptz" if connection.vendor == "postgresql" else ""
    rows = [
        (pk, _adapt(until), f"{capped_text(until)} ({reason})")
        for pk, (until, reason) in sorted(held.items())
    ]
    count = 0
    with connection.cursor() as cursor:
        for first in range(0, len(rows), 500):
            part = rows[first : first + 500]
            cursor.execute(
                f"""
                UPDATE {table}
                SET status = %s, not_before = v.column2{cast}, error = v.column3,
                    reported_status = '', attempts = attempts - 1,
                    claim_token = NULL, lease_until = NULL
                FROM (VALUES {", ".join(["(%s, %s, %s)"] * len(part))}) AS v
                WHERE {table}.id = v.column1 AND {table}.claim_token = %s
                """,
                [
                    Message.Status.DEFERRED,
                    *(value for row in part for value in row),
                    token_value,
                ],
            )
            count += cursor.rowcount
    return count


def _adapt(moment: dt.datetime) -> Any:
    # Raw SQL skips the field's conversion; SQLite stores text in the ORM's format.
    return connection.ops.adapt_datetimefield_value(moment)


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
