"""Claims: how a worker takes a range of messages to send, and gives them back.

A message is claimed before its provider is called: one conditional UPDATE puts a
fresh claim token and a lease on the range's due, unclaimed rows, so two workers
handed the same range (a redelivered task, a sweeper re-queue) never both send a
row. The claim leaves the status alone ("queued" with a claim reads as sending): it
changes no indexed column, so PostgreSQL makes it in place, without touching the
table's indexes. The claim's lease outlives the task's hard time limit, so the
sweeper never takes a claim back from a worker that is still running.
"""

import datetime as dt
import functools
import json
import uuid
from typing import Any, TypeVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, models
from django.db.models import F
from django.db.models.base import ModelState

from audiences.models import Contact, Suppression
from audiences.zones import contact_zone

from .models import ADDRESS_KINDS, Batch, Channel, Message, MessageQuerySet
from .recording import messages_fail
from .suppressed import message_suppressed
from .windows import ActiveHours, WindowsNeverMeet


def lease() -> dt.timedelta:
    return dt.timedelta(seconds=settings.MESSAGING_LEASE_SECONDS)


def in_range(batch_id: int, first_id: int, last_id: int) -> MessageQuerySet:
    return Message.objects.filter(batch_id=batch_id, id__gte=first_id, id__lte=last_id)


def defer_outside_hours(
    messages: MessageQuerySet, now: dt.datetime, hours: ActiveHours
) -> tuple[int, int]:
    """Defer the due ``messages`` to when their channel's hours (and their batch's)
    next open; fail them when the two never meet. Return (deferred, failed)."""
    if hours.per_contact:
        return _defer_by_zone(messages, now, hours)
    deferred = failed = 0
    channel_ids = messages.due(now).values_list("channel_id", flat=True).distinct()
    for channel in Channel.objects.filter(pk__in=list(channel_ids)):
        on_channel = messages.due(now).filter(channel=channel)
        try:
            opens_at = hours.opens_at(channel, now)
        except WindowsNeverMeet as exc:
            failed += messages_fail(on_channel, str(exc), lease_until=None)
            continue
        if opens_at is not None:
            deferred += on_channel.update(
                status=Message.Status.DEFERRED, not_before=opens_at, lease_until=None
            )
    return deferred, failed


# Ids per UPDATE of one zone's messages: SQLite's limit on a statement's parameters.
ZONE_UPDATE_IDS = 900


def _defer_by_zone(
    messages: MessageQuerySet, now: dt.datetime, hours: ActiveHours
) -> tuple[int, int]:
    """defer_outside_hours for hours read in each contact's zone: the range's due
    messages grouped by channel and contact zone (read in one query), each group
    deferred to its own opening in one UPDATE, so each zone is released at its own
    time."""
    deferred = failed = 0
    groups: dict[tuple[int, str | None], list[int]] = {}
    for pk, channel_id, phone, named in messages.due(now).values_list(
        "id", "channel_id", "contact__phone", "contact__timezone"
    ):
        groups.setdefault((channel_id, contact_zone(phone, named)), []).append(pk)
    channels = Channel.objects.in_bulk({channel_id for channel_id, _ in groups})
    for (channel_id, zone), ids in groups.items():
        try:
            opens_at = hours.opens_at(channels[channel_id], now, zone)
        except WindowsNeverMeet as exc:
            for first in range(0, len(ids), ZONE_UPDATE_IDS):
                group = messages.due(now).filter(
                    pk__in=ids[first : first + ZONE_UPDATE_IDS]
                )
                failed += messages_fail(group, str(exc), lease_until=None)
            continue
        if opens_at is None:
            continue
        for first in range(0, len(ids), ZONE_UPDATE_IDS):
            deferred += (
                messages.due(now)
                .filter(pk__in=ids[first : first + ZONE_UPDATE_IDS])
                .update(
                    status=Message.Status.DEFERRED,
                    not_before=opens_at,
                    lease_until=None,
                )
            )
    return deferred, failed


def claim(
    batch: Batch, first_id: int, last_id: int, token: uuid.UUID, now: dt.datetime
) -> list[Message]:
    """Claim the due, unclaimed messages of ``batch`` with ids in [first_id,
    last_id] under ``token``, and return them with what sending needs."""
    if connection.vendor == "postgresql":
        return _claim_and_read(batch, first_id, last_id, token, now)
    mine = in_range(batch.pk, first_id, last_id)
    claimed = (
        mine.due(now)
        .filter(claim_token__isnull=True)
        .update(
            claim_token=token, lease_until=now + lease(), attempts=F("attempts") + 1
        )
    )
    if not claimed:
        return []
    return claimed_messages(mine.filter(claim_token=token), batch)


def _claim_and_read(
    batch: Batch, first_id: int, last_id: int, token: uuid.UUID, now: dt.datetime
) -> list[Message]:
    """Claim and read in one statement (PostgreSQL): the claimed rows come back from
    the UPDATE itself."""
    reaching = _channels_reaching()
    # The id range leads, whatever the planner's statistics say: right after a big
    # fan-out they do not know the batch nor its queued messages yet. Hence not
    # "batch_id = %s" (it would pick the (batch, status) index), and the status
    # asked "IS TRUE" (else it would pick the pending messages' partial index, which
    # it believes nearly empty, and filter a million rows out of it per chunk).
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH claimed AS (
                UPDATE {Message._meta.db_table} AS m
                SET claim_token = %s, lease_until = %s, attempts = m.attempts + 1
                WHERE m.id BETWEEN %s AND %s AND m.batch_id IS NOT DISTINCT FROM %s
                  AND (m.status IN (%s, %s)) IS TRUE AND m.claim_token IS NULL
                  AND (m.not_before IS NULL OR m.not_before <= %s)
                RETURNING m.id, m.step, m.attempts, m.channel_id, m.journey_id,
                          m.contact_id, m.context
            )
            SELECT c.id, c.step, c.attempts, c.channel_id, c.journey_id, c.contact_id,
                   c.context, ct.phone, ct.name, ct.email, ct.data, ct.opted_out_at,
                   ct.timezone,
                   CASE WHEN c.channel_id = ANY(%s::bigint[]) THEN EXISTS (
                            SELECT 1 FROM {Suppression._meta.db_table} s
                            WHERE s.address_kind = %s AND s.key = ct.phone_key)
                        WHEN c.channel_id = ANY(%s::bigint[]) THEN EXISTS (
                            SELECT 1 FROM {Suppression._meta.db_table} s
                            WHERE s.address_kind = %s AND s.key = ct.email_key)
                        ELSE FALSE END
            FROM claimed c
            -- A lookup by key per claimed row (LIMIT 1 keeps it so): joined plainly,
            -- the planner merged the claimed rows with a scan of the whole contacts
            -- table from its start, slower with every chunk of a big run.
            CROSS JOIN LATERAL (
                SELECT phone, name, email, data, opted_out_at, timezone, phone_key,
                       email_key
                FROM {Contact._meta.db_table} WHERE id = c.contact_id LIMIT 1
            ) ct
            ORDER BY c.id
            """,
            [
                token,
                now + lease(),
                first_id,
                last_id,
                batch.pk,
                Message.Status.QUEUED,
                Message.Status.DEFERRED,
                now,
                reaching[Suppression.Address.PHONE],
                Suppression.Address.PHONE,
                reaching[Suppression.Address.EMAIL],
                Suppression.Address.EMAIL,
            ],
        )
        rows = cursor.fetchall()
    return _messages_from_rows(rows, batch)


def _channels_reaching() -> dict[str, list[int]]:
    """The ids of the channels that reach each kind of address (a small table)."""
    reaching: dict[str, list[int]] = {kind: [] for kind in Suppression.Address}
    for pk, kind in Channel.objects.values_list("pk", "kind"):
        if ADDRESS_KINDS.get(kind) in reaching:
            reaching[ADDRESS_KINDS[kind]].append(pk)
    return reaching


def claimed_messages(mine: MessageQuerySet, batch: Batch) -> list[Message]:
    """The claimed messages with what sending needs (contact, channel, the batch's
    sender), read in one query as plain values: building full model objects for
    every related row cost more than sending through a fast provider."""
    rows = list(
        mine.order_by("id")
        .annotate(address_suppressed=message_suppressed())
        .values_list(
            "id",
            "step",
            "attempts",
            "channel_id",
            "origin",
            "contact_id",
            "context",
            "contact__phone",
            "contact__name",
            "contact__email",
            "contact__data",
            "contact__opted_out_at",
            "contact__timezone",
            "address_suppressed",
        )
    )
    return _messages_from_rows(rows, batch)


def _messages_from_rows(rows: list[Any], batch: Batch) -> list[Message]:
    channels = Channel.objects.in_bulk({row[3] for row in rows})
    messages = []
    for (
        pk, step, attempts, channel_id, origin, contact_id, context, phone, name,
        email, data, opted_out_at, zone, suppressed,
    ) in rows:  # fmt: skip
        # Raw rows carry JSON as text; values_list() rows, already decoded.
        if isinstance(data, str):
            data = json.loads(data)
        if isinstance(context, str):
            context = json.loads(context)
        message = _loaded(
            Message,
            id=pk,
            step=step,
            attempts=attempts,
            batch_id=batch.pk,
            channel_id=channel_id,
            origin=origin,
            contact_id=contact_id,
            context=context,
            status=Message.Status.QUEUED,
        )
        contact = _loaded(
            Contact,
            id=contact_id,
            phone=phone,
            name=name,
            email=email,
            data=data,
            opted_out_at=opted_out_at,
            timezone=zone,
        )
        message._state.fields_cache["contact"] = contact
        message._state.fields_cache["channel"] = channels[channel_id]
        message._state.fields_cache["batch"] = batch
        message.sender_name = batch.sender_name
        message.reply_to = batch.reply_to
        message.tags = batch.tags
        message.suppressed = bool(suppressed)
        messages.append(message)
    return messages


_M = TypeVar("_M", bound=models.Model)


@functools.cache
def _blank_row(model: type[models.Model]) -> dict[str, Any]:
    return {field.attname: None for field in model._meta.concrete_fields}


def _loaded(model: type[_M], **values: Any) -> _M:
    """An instance of ``model`` holding ``values``, as if read from the database.

    Model.__init__ costs more than sending a message through a fast provider; this
    fills the instance's dict directly. Every field is set (None when not given), so
    reading one never goes back to the database.
    """
    instance = model.__new__(model)
    instance.__dict__.update(_blank_row(model))
    instance.__dict__.update(values)
    instance._state = ModelState()
    instance._state.adding = False
    instance._state.db = DEFAULT_DB_ALIAS
    return instance


def claims_release(
    messages: list[Message],
    token: uuid.UUID,
    not_before: dt.datetime | None = None,
) -> int:
    """Give back the claims of ``messages`` held under ``token``, as if never taken
    (the attempt is not counted), due again at ``not_before`` if given. Return how
    many."""
    changes: dict[str, Any] = {"not_before": not_before} if not_before else {}
    return Message.objects.filter(
        pk__in=[message.pk for message in messages], claim_token=token
    ).update(
        claim_token=None,
        reported_status="",
        lease_until=None,
        attempts=F("attempts") - 1,
        **changes,
    )
