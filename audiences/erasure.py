"""Deleting contacts, with everything that was theirs: messages, journeys, group
memberships. Their replies stay, without the contact."""

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Count, QuerySet

from base.audit import audit_record, changes_between, snapshot

from .models import Contact, Membership

# Contacts deleted per transaction: a selection of many thousands does not hold
# one long transaction over the messages table.
BATCH = 1000


@dataclass
class ContactsFootprint:
    """What deleting some contacts takes with them."""

    contacts: int = 0
    messages: int = 0
    journeys: int = 0
    memberships: int = 0
    opted_out: int = 0
    per_contact: dict[int, Counter[str]] = field(default_factory=dict)


def contacts_footprint(contacts: QuerySet[Contact]) -> ContactsFootprint:
    """Count what deleting ``contacts`` would delete (one query per kind of row,
    through the contact indexes)."""
    from flows.models import Journey
    from messaging.models import Message

    ids = list(contacts.values_list("pk", flat=True))
    found = ContactsFootprint(
        contacts=len(ids),
        opted_out=contacts.filter(opted_out_at__isnull=False).count(),
        per_contact={pk: Counter() for pk in ids},
    )
    for kind, model in (
        ("messages", Message),
        ("journeys", Journey),
        ("memberships", Membership),
    ):
        rows = (
            model.objects.filter(contact_id__in=ids)
            .order_by()
            .values_list("contact_id")
            .annotate(n=Count("pk"))
        )
        for contact_id, n in rows:
            found.per_contact[contact_id][kind] = n
            setattr(found, kind, getattr(found, kind) + n)
    return found


def contacts_delete(*, contacts: QuerySet[Contact], actor: Any = None) -> int:
    """Delete ``contacts`` with their messages, journeys and memberships, each
    recorded in the audit trail with what went with it; return how many contacts.

    A message a worker is sending at that moment goes too: the worker finds no row
    to record it on, and logs so.
    """
    from flows.models import Journey
    from messaging.models import Message

    ids = list(contacts.values_list("pk", flat=True))
    deleted = 0
    for start in range(0, len(ids), BATCH):
        batch = Contact.objects.filter(pk__in=ids[start : start + BATCH])
        footprint = contacts_footprint(batch)
        with transaction.atomic():
            for contact in batch:
                went = footprint.per_contact.get(contact.pk, Counter())
                audit_record(
                    action="delete",
                    target=contact,
                    changes=changes_between(snapshot(contact), {}),
                    note="with its "
                    + ", ".join(
                        f"{went[kind]} {kind}"
                        for kind in ("messages", "journeys", "memberships")
                    ),
                    actor=actor,
                )
            # Messages first, in one statement each (nothing depends on them): the
            # ORM's cascade from journeys would read them all back to find none.
            Message.objects.filter(contact__in=batch).delete()
            Journey.objects.filter(contact__in=batch).delete()
            deleted += batch.delete()[1].get(Contact._meta.label, 0)
    return deleted
