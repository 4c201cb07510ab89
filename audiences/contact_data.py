"""One custom-data value written for one contact (a reply saved by a flow), typed as
an import types it: to the variable's kind, or, for a new variable, to the kind its
first value looks like."""

from typing import Any

from django.db import transaction

from .importing.values import infer_kind, typed_value
from .models import Contact
from .variables import Variable


class ValueRefused(ValueError):
    """The value does not fit the variable's kind; the text says why."""


def contact_data_save(*, contact_id: int, name: str, text: str) -> Any:
    """Store ``text`` as the contact's custom data ``name``, typed; return the stored
    value. ValueRefused when it does not fit the variable (a word in a number)."""
    text = text.strip()
    with transaction.atomic():
        variable, _ = Variable.objects.get_or_create(
            name=name, defaults={"kind": infer_kind([text])}
        )
        try:
            value = typed_value(text, variable.kind) if text else ""
        except ValueError as exc:
            raise ValueRefused(str(exc)) from None
        contact = Contact.objects.select_for_update().get(pk=contact_id)
        contact.data = {**(contact.data or {}), name: value}
        Contact.objects.filter(pk=contact_id).update(data=contact.data)
    return value
