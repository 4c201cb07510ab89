"""The suppression list (audiences.suppression) as sending reads it.

A channel's messages are stopped by the entries for the address it reaches
(Channel.address_kind): a phone entry stops SMS, WhatsApp and console messages to
that number, an email entry stops email; webhooks only by the global opt-out. The
fan-out writes skipped rows for suppressed addresses (messaging.outbox), a claim
reads whether each claimed message's address is suppressed (messaging.claims), and
an address suppressed later skips what waits for it here, and stops what workers
hold through the opt-out note (messaging.optouts).
"""

from collections.abc import Iterable

from django.db.models import BooleanField, Case, Exists, OuterRef, Q, Value, When

from audiences.models import Contact, Suppression
from audiences.suppressing import KEY_COLUMNS

from .models import ADDRESS_KINDS, Channel, Message
from .optouts import opt_out_note


def channel_kinds(address_kind: str) -> list[str]:
    """The kinds of channel an entry of ``address_kind`` stops."""
    return sorted(
        kind for kind, reaches in ADDRESS_KINDS.items() if reaches == address_kind
    )


def _on_list(address_kind: str, contact: str) -> Exists:
    return Exists(
        Suppression.objects.filter(
            address_kind=address_kind,
            key=OuterRef(f"{contact}{KEY_COLUMNS[address_kind]}"),
        )
    )


def message_suppressed() -> Case:
    """For a Message queryset: whether its channel's address is on the list now."""
    return Case(
        *(
            When(
                channel__kind__in=channel_kinds(kind), then=_on_list(kind, "contact__")
            )
            for kind in KEY_COLUMNS
        ),
        default=Value(False),
        output_field=BooleanField(),
    )


def messages_stopped(messages: Iterable[Message]) -> dict[int, str]:
    """Of ``messages`` (with their channel loaded), those that must not go out, read
    now in one query: by id, "opted out" (the contact's global opt-out) or
    "suppressed" (their channel's address is on the list)."""
    messages = list(messages)
    rows = Contact.objects.filter(pk__in={m.contact_id for m in messages}).annotate(
        **{f"off_{kind}": _on_list(kind, "") for kind in KEY_COLUMNS}
    )
    found = {
        pk: (
            opted_out_at,
            {kind for kind, off in zip(KEY_COLUMNS, offs, strict=True) if off},
        )
        for pk, opted_out_at, *offs in rows.values_list(
            "pk", "opted_out_at", *(f"off_{kind}" for kind in KEY_COLUMNS)
        )
    }
    stopped: dict[int, str] = {}
    for message in messages:
        opted_out_at, off = found.get(message.contact_id, (None, set()))
        if opted_out_at is not None:
            stopped[message.pk] = "opted out"
        elif message.channel.address_kind in off:
            stopped[message.pk] = "suppressed"
    return stopped


def messages_skip_suppressed(address_kind: str, contact_ids: list[int]) -> int:
    """Skip the messages waiting (no worker holds them) for these contacts on the
    channels an entry of ``address_kind`` stops; return how many."""
    if not contact_ids or address_kind not in KEY_COLUMNS:
        return 0
    return Message.objects.filter(
        Q(contact_id__in=contact_ids),
        channel__kind__in=channel_kinds(address_kind),
        status__in=(Message.Status.QUEUED, Message.Status.DEFERRED),
        claim_token__isnull=True,
    ).update(status=Message.Status.SKIPPED, error="suppressed", lease_until=None)


def suppressed_refusal(contact: Contact, channel: Channel) -> str:
    """Why nothing may be sent to ``contact`` on ``channel``: its address for the
    channel is on the list; "" when it is not."""
    column = KEY_COLUMNS.get(channel.address_kind)
    key = getattr(contact, column) if column else ""
    if not key:
        return ""
    entry = Suppression.objects.filter(address_kind=channel.address_kind, key=key)
    found = entry.first()
    if found is None:
        return ""
    return (
        f"{contact}'s {found.get_address_kind_display().lower()} is on the "
        f"suppression list ({found.get_reason_display().lower()}, "
        f"{found.hint}): nothing is sent to it on {channel}."
    )


def suppression_heard(address_kind: str, contact_ids: list[int]) -> None:
    """An address is being suppressed (audiences.suppressing tells us, before it
    commits): skip what waits for its holders, and tell the workers that hold
    their messages, which check again what committed before skipping them."""
    messages_skip_suppressed(address_kind, contact_ids)
    for contact_id in contact_ids:
        opt_out_note(contact_id)
