"""Consent: a contact's opt-out, the only writer of Contact.opted_out_at."""

from collections.abc import Callable

from django.db import transaction
from django.utils import timezone

from base.audit import audit_record
from stream.emitting import emit
from stream.models import EventType

from .models import Contact

# Told the contact's id as an opt-out is written, before it commits: what sends to
# contacts (messaging) registers here, in its ready(), to stop what it holds.
opt_out_listeners: list[Callable[[int], None]] = []


def contact_mark_opted_out(*, contact: Contact, source: str) -> bool:
    """Opt the contact out now, saying where from (a STOP reply, ...), recorded in
    the audit trail. The first opt-out's time and source are kept: return False when
    the contact had opted out already."""
    now = timezone.now()
    with transaction.atomic():
        changed = Contact.objects.filter(
            pk=contact.pk, opted_out_at__isnull=True
        ).update(opted_out_at=now, opt_out_source=source[:100])
        if changed:
            for listener in opt_out_listeners:
                listener(contact.pk)
            audit_record(action="opt_out", target=contact, note=source)
            emit(
                type=EventType.CONTACT_OPTED_OUT,
                data={
                    "contact": {
                        "id": contact.pk,
                        "phone": contact.phone,
                        "name": contact.name,
                        "email": contact.email,
                    },
                    "source": source[:100],
                    "opted_out_at": now.isoformat(),
                },
                contact=contact.pk,
            )
    return bool(changed)


def contact_mark_opted_in(*, contact: Contact, source: str) -> bool:
    """Take back the contact's opt-out (the contact asked to hear from us again),
    saying where from, recorded in the audit trail. Return False when the contact
    had not opted out."""
    with transaction.atomic():
        changed = Contact.objects.filter(
            pk=contact.pk, opted_out_at__isnull=False
        ).update(opted_out_at=None, opt_out_source="")
        if changed:
            audit_record(action="opt_in", target=contact, note=source)
    return bool(changed)
