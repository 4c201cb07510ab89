"""Adding to and taking from the suppression list (audiences.suppression)."""

import datetime as dt
from collections.abc import Callable

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from base.audit import audit_record
from stream.emitting import emit
from stream.models import EventType

from .addresses import address_hint, email_key, phone_key
from .models import Contact, Suppression

# Told the ids of the contacts holding an address as it is suppressed, before it
# commits: what sends to contacts (messaging) registers here in its ready(), to
# stop what it holds for them.
suppression_listeners: list[Callable[[str, list[int]], None]] = []


# The contact's key column each kind of suppressed address is matched by.
KEY_COLUMNS: dict[str, str] = {
    Suppression.Address.PHONE: "phone_key",
    Suppression.Address.EMAIL: "email_key",
}


def suppression_entries(
    *,
    phone: tuple[str, str],
    email: tuple[str, str],
    reason: str,
    source: str,
    now: dt.datetime,
    user_id: int | None,
) -> list[Suppression]:
    """Unsaved list entries for a phone and an email, each given as (address, key),
    for those that have a key: for writers that add many at once."""
    return [
        Suppression(
            address_kind=kind,
            key=key,
            hint=address_hint(address),
            reason=reason,
            source=source,
            created_at=now,
            created_by_id=user_id,
        )
        for kind, (address, key) in (
            (Suppression.Address.PHONE, phone),
            (Suppression.Address.EMAIL, email),
        )
        if key
    ]


def address_key_of(kind: str, address: str) -> str:
    """The key the list knows ``address`` (a phone or an email, as ``kind``) by."""
    if kind == Suppression.Address.EMAIL:
        return email_key(address)
    return phone_key(address)


def address_suppress(
    *,
    kind: str,
    address: str,
    reason: str,
    source: str = "",
    user: object | None = None,
) -> bool:
    """Suppress ``address`` (a phone in E.164 or an email) for ``reason``, saying
    where from. The first entry's reason and source are kept: return False when
    the address was suppressed already."""
    return key_suppress(
        kind=kind,
        key=address_key_of(kind, address),
        hint=address_hint(address),
        reason=reason,
        source=source,
        user=user,
        phone=address.strip() if kind == Suppression.Address.PHONE else "",
    )


def key_suppress(
    *,
    kind: str,
    key: str,
    hint: str,
    reason: str,
    source: str = "",
    user: object | None = None,
    phone: str = "",
) -> bool:
    """Suppress the address whose key (audiences.addresses) is ``key``, known to
    the caller only by its key and ``hint`` (an unsubscribe link: its contact may
    be erased since). As address_suppress otherwise; ``phone``, the number itself
    when the caller knows it, finds its holder by the phone's unique index."""
    if not key:
        return False
    with transaction.atomic():
        entry, created = Suppression.objects.get_or_create(
            address_kind=kind,
            key=key,
            defaults={
                "hint": hint[:80],
                "reason": reason,
                "source": source[:200],
                "created_by": user,
            },
        )
        if created:
            holders = list(address_holders(kind, key, phone))
            for listener in suppression_listeners:
                listener(kind, holders)
            audit_record(action="suppress", target=entry, note=source[:200])
            _emit(EventType.ADDRESS_SUPPRESSED, entry, holders, source)
    return created


def address_unsuppress(*, kind: str, address: str, source: str) -> bool:
    """Take ``address`` off the list (the contact asked to hear from us again).
    Return False when it was not on it."""
    key = address_key_of(kind, address)
    with transaction.atomic():
        entry = Suppression.objects.filter(address_kind=kind, key=key).first()
        if entry is None:
            return False
        _remove(entry, source, phone=address.strip())
    return True


def address_suppressed(kind: str, address: str) -> Suppression | None:
    """The list's entry for ``address``, if it is on it."""
    key = address_key_of(kind, address)
    if not key:
        return None
    return Suppression.objects.filter(address_kind=kind, key=key).first()


def suppression_remove(*, entry: Suppression, source: str) -> None:
    """Take ``entry`` off the list, as address_unsuppress does for an address
    (recorded in the audit trail): its address may be messaged again."""
    with transaction.atomic():
        _remove(entry, source)


def _remove(entry: Suppression, source: str, phone: str = "") -> None:
    holders = list(address_holders(entry.address_kind, entry.key, phone))
    audit_record(action="unsuppress", target=entry, note=source[:200])
    _emit(EventType.ADDRESS_UNSUPPRESSED, entry, holders, source)
    entry.delete()


def address_holders(kind: str, key: str, phone: str = "") -> "QuerySet[Contact, int]":
    """The ids of the contacts holding the address: an email's by its key's
    index, a phone's by the phone when known (unique), else by its key (a scan:
    rare)."""
    if kind == Suppression.Address.EMAIL:
        found = Contact.objects.filter(email_key=key)
    elif phone:
        found = Contact.objects.filter(phone=phone)
    else:
        found = Contact.objects.filter(phone_key=key)
    return found.values_list("pk", flat=True)


def _emit(type: str, entry: Suppression, holders: list[int], source: str) -> None:
    """Tell the event stream (in the change's transaction), about each holder's
    contact in order, or about nobody's when no contact holds it."""
    data = {
        "address": entry.address_kind,
        "hint": entry.hint,
        "reason": entry.reason,
        "source": source[:200],
        "contacts": holders,
        "at": timezone.now().isoformat(),
    }
    emit(type=type, data=data, contact=holders[0] if holders else None)
