"""Deleting contacts, with everything that was theirs: the rows the apps above keep
for them (messages, journeys), registered as ContactRows, and their group
memberships. Their replies stay, without the contact. The phone and email of a
contact who had opted out go on the suppression list first, so that the same
contact imported again is not messaged."""

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import models, transaction
from django.db.models import Count, QuerySet
from django.utils import timezone

from base.audit import audit_record, changes_between, snapshot

from .addresses import email_key, phone_key
from .models import Contact, Membership, Suppression
from .suppressing import suppression_entries

# Contacts deleted per transaction: a selection of many thousands does not hold
# one long transaction over the messages table.
BATCH = 1000


@dataclass(frozen=True)
class ContactRows:
    """Rows an app above audiences keeps for contacts, deleted with them. The app
    registers them from its AppConfig.ready() with contact_rows_register()."""

    label: str  # plural, as the audit trail and the confirmation page name them
    count: Callable[[Sequence[int]], dict[int, int]]  # rows per contact id given
    delete: Callable[[Sequence[int]], object]  # the rows of the contact ids given
    after: tuple[str, ...] = ()  # labels of rows to delete before these


_registered: dict[str, ContactRows] = {}


def contact_rows_register(rows: ContactRows) -> None:
    """Count and delete ``rows`` with their contacts. Registered again under the
    same label, they replace the earlier ones."""
    _registered[rows.label] = rows


def contact_rows_by_column(
    model: type[models.Model], label: str, *, after: tuple[str, ...] = ()
) -> ContactRows:
    """The rows of ``model`` found by its contact_id column, counted in one query
    and deleted in one statement."""

    def count(contact_ids: Sequence[int]) -> dict[int, int]:
        return dict(
            model._default_manager.filter(contact_id__in=contact_ids)
            .order_by()
            .values_list("contact_id")
            .annotate(n=Count("pk"))
        )

    def delete(contact_ids: Sequence[int]) -> object:
        return model._default_manager.filter(contact_id__in=contact_ids).delete()

    return ContactRows(label=label, count=count, delete=delete, after=after)


# Counted like the other apps' rows; deleted by the ORM's cascade from the contact.
_MEMBERSHIPS = contact_rows_by_column(Membership, "memberships")


def _in_deletion_order() -> list[ContactRows]:
    """The registered rows, each after the rows it names in ``after``, otherwise in
    the order registered."""
    pending, ordered = list(_registered.values()), []
    while pending:
        labels = {rows.label for rows in pending}
        free = [rows for rows in pending if labels.isdisjoint(rows.after)]
        if not free:
            raise ImproperlyConfigured(
                "Contact rows wait for each other: "
                + ", ".join(f"{rows.label} after {rows.after}" for rows in pending)
            )
        ordered += free
        pending = [rows for rows in pending if rows not in free]
    return ordered


@dataclass
class ContactsFootprint:
    """What deleting some contacts takes with them."""

    contacts: int = 0
    rows: dict[str, int] = field(default_factory=dict)  # by label, in deletion order
    memberships: int = 0
    opted_out: int = 0
    per_contact: dict[int, Counter[str]] = field(default_factory=dict)


def contacts_footprint(contacts: QuerySet[Contact]) -> ContactsFootprint:
    """Count what deleting ``contacts`` would delete (one query per kind of row,
    through the contact indexes)."""
    ids = list(contacts.values_list("pk", flat=True))
    found = ContactsFootprint(
        contacts=len(ids),
        opted_out=contacts.filter(opted_out_at__isnull=False).count(),
        per_contact={pk: Counter() for pk in ids},
    )
    for rows in _in_deletion_order():
        found.rows[rows.label] = _tally(found, rows, ids)
    found.memberships = _tally(found, _MEMBERSHIPS, ids)
    return found


def _tally(found: ContactsFootprint, rows: ContactRows, ids: list[int]) -> int:
    """Count ``rows`` per contact into ``found``; return how many in all."""
    counts = rows.count(ids)
    for contact_id, n in counts.items():
        found.per_contact[contact_id][rows.label] = n
    return sum(counts.values())


def contacts_delete(*, contacts: QuerySet[Contact], actor: Any = None) -> int:
    """Delete ``contacts`` with the rows registered for them and their memberships,
    each recorded in the audit trail with what went with it; return how many
    contacts.

    A message a worker is sending at that moment goes too: the worker finds no row
    to record it on, and logs so.
    """
    ids = list(contacts.values_list("pk", flat=True))
    owned = _in_deletion_order()
    labels = [rows.label for rows in [*owned, _MEMBERSHIPS]]
    deleted = 0
    for start in range(0, len(ids), BATCH):
        batch = Contact.objects.filter(pk__in=ids[start : start + BATCH])
        footprint = contacts_footprint(batch)
        with transaction.atomic():
            _opted_out_suppress(batch, actor)
            for contact in batch:
                went = footprint.per_contact.get(contact.pk, Counter())
                audit_record(
                    action="delete",
                    target=contact,
                    changes=changes_between(snapshot(contact), {}),
                    note="with its "
                    + ", ".join(f"{went[label]} {label}" for label in labels),
                    actor=actor,
                )
            # In one statement each, before the contacts: the ORM's cascade from
            # the contacts would read every one of those rows back first.
            for rows in owned:
                rows.delete(list(footprint.per_contact))
            deleted += batch.delete()[1].get(Contact._meta.label, 0)
    return deleted


def _opted_out_suppress(contacts: QuerySet[Contact], actor: Any) -> None:
    """Put the phones and emails of the opted-out among ``contacts`` on the
    suppression list (one statement; an address on it keeps its first entry)."""
    now = timezone.now()
    user_id = getattr(actor, "pk", None)
    entries = []
    for phone, email, source in contacts.filter(opted_out_at__isnull=False).values_list(
        "phone", "email", "opt_out_source"
    ):
        entries += suppression_entries(
            phone=(phone, phone_key(phone)),
            email=(email, email_key(email)),
            reason=Suppression.Reason.OPERATOR,
            source=f"opted out ({source or 'no source given'}) before erasure"[:200],
            now=now,
            user_id=user_id,
        )
    Suppression.objects.bulk_create(entries, ignore_conflicts=True)
