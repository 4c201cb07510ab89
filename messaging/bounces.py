"""Bounces and dead numbers: a failed message whose provider said the address is
the trouble (backends.Bounce) suppresses it, so the next campaign does not try again.

A hard bounce (an unknown mailbox, a number that unsubscribed at the carrier or
does not exist) suppresses the address as its message fails. A soft one (a full
mailbox, a server refusing it for now) is retried as any failure; when its message
finally fails, its error starts with SOFT_MARK, and the address is suppressed once
its contact has SOFT_BOUNCE_LIMIT such failures within SOFT_BOUNCE_DAYS on channels
reaching that kind of address (counted from the messages table, by the age of the
messages: no table of its own). The message's error says what was done, for
the timeline and the message's page.
"""

import dataclasses
import datetime as dt

from django.conf import settings
from django.utils import timezone

from audiences.suppressing import address_suppress

from .backends import Bounce
from .models import ADDRESS_KINDS, Channel, Message

HARD_MARK = "bounced: "
SOFT_MARK = "soft bounce: "


@dataclasses.dataclass(frozen=True)
class Verdict:
    """What a final failure's bounce comes to: the message's error, and the
    suppression to write once the failure is recorded (None: none)."""

    error: str
    suppress: tuple[Bounce, str] | None = None  # the bounce, and the source to say


def _suppressed_note(bounce: Bounce) -> str:
    return "(number suppressed)" if bounce.kind == "phone" else "(address suppressed)"


def soft_bounces(
    contact_id: int, kind: str, *, since: dt.datetime, leaving_out: int | None = None
) -> int:
    """How many of the contact's messages on channels reaching ``kind`` addresses
    failed as soft bounces since ``since``; ``leaving_out`` a message id not to
    count. Read through the messages' contact index: counted per contact, not per
    address (the contacts' address keys have no index of their own; an erased
    contact's messages go with it)."""
    kinds = [channel for channel, reaches in ADDRESS_KINDS.items() if reaches == kind]
    found = Message.objects.filter(
        contact_id=contact_id,
        status=Message.Status.FAILED,
        error__startswith=SOFT_MARK,
        created_at__gte=since,
        channel__kind__in=kinds,
    )
    if leaving_out is not None:
        found = found.exclude(pk=leaving_out)
    return found.count()


def bounce_verdict(
    bounce: Bounce,
    reason: str,
    *,
    channel: Channel,
    message_id: int,
    contact_id: int,
    now: dt.datetime | None = None,
) -> Verdict:
    """What the final failure of message ``message_id`` to contact ``contact_id`` on
    ``channel``, refused with ``reason`` for ``bounce``, comes to. Writes nothing:
    see bounce_suppress."""
    where = f"on channel {channel.name}"
    if not bounce.soft:
        return Verdict(
            f"{HARD_MARK}{reason} {_suppressed_note(bounce)}",
            (bounce, f"{bounce.answer} {where}"),
        )
    now = now or timezone.now()
    limit, days = settings.SOFT_BOUNCE_LIMIT, settings.SOFT_BOUNCE_DAYS
    earlier = soft_bounces(
        contact_id,
        bounce.kind,
        since=now - dt.timedelta(days=days),
        leaving_out=message_id,
    )
    count = earlier + 1
    if count < limit:
        return Verdict(f"{SOFT_MARK}{reason} ({count} of {limit} in {days} days)")
    return Verdict(
        f"{SOFT_MARK}{reason} {_suppressed_note(bounce)[:-1]}: "
        f"{count} soft bounces in {days} days)",
        (
            bounce,
            f"{count} soft bounces in {days} days, the last: {bounce.answer} {where}",
        ),
    )


def bounce_suppress(verdict: Verdict) -> bool:
    """Write the verdict's suppression, if it has one; whether it is new."""
    if verdict.suppress is None:
        return False
    bounce, source = verdict.suppress
    return address_suppress(
        kind=bounce.kind, address=bounce.address, reason=bounce.reason, source=source
    )


def receipt_bounce(
    bounce: Bounce, *, channel: Channel, message_id: int, error: str
) -> str:
    """Suppress the number a failed delivery receipt for message ``message_id``
    says is dead (backends.twilio.RECEIPT_BOUNCES), if the message is the
    channel's; the message's error to record. A receipt that does not name the
    number (Twilio's say To) is about the message's contact's."""
    found = (
        Message.objects.filter(pk=message_id, channel=channel)
        .values_list("contact_id", "contact__phone")
        .first()
    )
    if found is None:
        return error
    contact_id, phone = found
    if not bounce.address:
        bounce = dataclasses.replace(bounce, address=phone)
    verdict = bounce_verdict(
        bounce,
        bounce.answer,
        channel=channel,
        message_id=message_id,
        contact_id=contact_id,
    )
    bounce_suppress(verdict)
    return verdict.error
