"""Contacts written from code (the API): created or updated by phone, one or a
thousand at a time, checked as an import checks a row.

Each item gives a phone and any of name, email, time zone (IANA) and custom data. A
field left out is kept as it is; custom data is merged, name by name (a null value
removes the name). Values take their variable's type; a new variable takes the type
its values in the request look like (mostly dates → date, mostly numbers → number,
else text) and is created. Items with a problem are left out and reported by
position; the others are written together.
"""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from .addresses import email_key, phone_key
from .importing.values import (
    VARIABLE_NAME,
    infer_kind,
    is_time_zone,
    not_a_date,
    typed_value,
)
from .models import Contact
from .phones import normalize_phone
from .variables import Variable

NAME_MAX = 200
DATA_NAMES_MAX = 200
TEXT_MAX = 1000


@dataclass
class Upserted:
    """What a write did: the contacts written (in the items' order, with whether
    each was created) and, by item position, why the others were not."""

    contacts: list[tuple[int, Contact, bool]] = field(default_factory=list)
    problems: dict[int, dict[str, str]] = field(default_factory=dict)

    @property
    def created(self) -> int:
        return sum(1 for _, _, new in self.contacts if new)

    @property
    def updated(self) -> int:
        return len(self.contacts) - self.created


@dataclass
class _Item:
    position: int
    phone: str
    fields: dict[str, Any]
    data: dict[str, Any]


def _value_problem(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return "must be text, a number or a date written YYYY-MM-DD"
    if isinstance(value, str) and len(value) > TEXT_MAX:
        return f"is {len(value)} characters long; at most {TEXT_MAX}"
    return ""


def _item_read(position: int, raw: Any) -> tuple[_Item | None, dict[str, str]]:
    if not isinstance(raw, dict):
        return None, {"item": "Each item must be an object with a phone."}
    problems: dict[str, str] = {}
    unknown = sorted(set(raw) - {"phone", "name", "email", "timezone", "data"})
    if unknown:
        problems["item"] = (
            f"Unknown fields: {', '.join(unknown)}; an item has phone, name, email, "
            "timezone and data."
        )
    phone = ""
    try:
        phone = normalize_phone(raw.get("phone") or "")
    except ValidationError as exc:
        problems["phone"] = exc.messages[0]
    fields: dict[str, Any] = {}
    if "name" in raw:
        name = raw["name"]
        if name is not None and not isinstance(name, str):
            problems["name"] = "Must be text."
        elif name and len(name) > NAME_MAX:
            problems["name"] = f"At most {NAME_MAX} characters."
        else:
            fields["name"] = (name or "").strip()
    if "email" in raw:
        email = raw["email"]
        if email is not None and not isinstance(email, str):
            problems["email"] = "Must be text."
        else:
            email = (email or "").strip()
            try:
                if email:
                    validate_email(email)
                fields["email"] = email
            except ValidationError:
                problems["email"] = f"{email!r} is not an email address."
    if "timezone" in raw:
        zone = raw["timezone"]
        if zone is not None and not isinstance(zone, str):
            problems["timezone"] = "Must be text."
        else:
            zone = (zone or "").strip()
            if zone and not is_time_zone(zone):
                problems["timezone"] = (
                    f"{zone!r} is not a time zone (an IANA name such as "
                    "America/Mexico_City or Europe/Madrid)."
                )
            else:
                fields["timezone"] = zone
    data: dict[str, Any] = {}
    given = raw.get("data")
    if given is not None and not isinstance(given, dict):
        problems["data"] = "Custom data must be an object of NAME: value pairs."
    elif given:
        if len(given) > DATA_NAMES_MAX:
            problems["data"] = f"At most {DATA_NAMES_MAX} names in one item."
        for name, value in given.items():
            if not VARIABLE_NAME.match(str(name)):
                problems[f"data.{name}"] = (
                    "Cannot be a variable name: use letters, digits and _, starting "
                    "with a letter (at most 64)."
                )
            elif value is not None and _value_problem(value):
                problems[f"data.{name}"] = f"The value {_value_problem(value)}."
            else:
                data[str(name)] = value.strip() if isinstance(value, str) else value
    if problems:
        return None, problems
    return _Item(position, phone, fields, data), {}


def _variables(items: list[_Item]) -> dict[str, str]:
    """Each named variable's kind; new ones are created, typed by their values."""
    values: dict[str, list[Any]] = defaultdict(list)
    for item in items:
        for name, value in item.data.items():
            if value is not None and value != "":
                values[name].append(value)
            else:
                values.setdefault(name, [])
    kinds = dict(
        Variable.objects.filter(name__in=list(values)).values_list("name", "kind")
    )
    for name in sorted(set(values) - set(kinds)):
        variable, _ = Variable.objects.get_or_create(
            name=name, defaults={"kind": infer_kind(values[name])}
        )
        kinds[name] = variable.kind
    return kinds


def _typed(item: _Item, kinds: dict[str, str], new: set[str]) -> dict[str, str]:
    problems: dict[str, str] = {}
    for name, value in list(item.data.items()):
        if value is None or value == "":
            item.data[name] = None
            continue
        kind = kinds[name]
        if (
            name in new
            and kind != Variable.Kind.DATE
            and isinstance(value, str)
            and not_a_date(value)
        ):
            problems[f"data.{name}"] = f"{value!r} is not a date."
            continue
        try:
            item.data[name] = typed_value(value, kind)
        except ValueError as exc:
            problems[f"data.{name}"] = f"{exc}."
    return problems


def contacts_upsert(*, items: Sequence[Any]) -> Upserted:
    """Create or update a contact for each item, by phone (see the module)."""
    outcome = Upserted()
    read: list[_Item] = []
    first_at: dict[str, int] = {}
    for position, raw in enumerate(items):
        item, problems = _item_read(position, raw)
        if item is not None and item.phone in first_at:
            problems = {
                "phone": f"{item.phone} is also item {first_at[item.phone]}; give each "
                "phone once."
            }
        if problems or item is None:
            outcome.problems[position] = problems
            continue
        first_at[item.phone] = position
        read.append(item)
    if not read:
        return outcome
    now = timezone.now()
    with transaction.atomic():
        known_before = set(
            Variable.objects.values_list("name", flat=True).filter(
                name__in={name for item in read for name in item.data}
            )
        )
        kinds = _variables(read)
        new_names = set(kinds) - known_before
        ready: list[_Item] = []
        for item in read:
            problems = _typed(item, kinds, new_names)
            if problems:
                outcome.problems[item.position] = problems
            else:
                ready.append(item)
        if not ready:
            transaction.set_rollback(True)  # no variable made for nothing
            return outcome
        existing = {
            contact.phone: contact
            for contact in Contact.objects.select_for_update()
            .filter(phone__in=[item.phone for item in ready])
            .order_by("phone")
        }
        rows = []
        for item in ready:
            known = existing.get(item.phone)
            contact = Contact(phone=item.phone, created_at=now, updated_at=now)
            if known is not None:
                contact.name, contact.email = known.name, known.email
                contact.timezone = known.timezone
            for name, value in item.fields.items():
                setattr(contact, name, value)
            # bulk_create does not call save(), which keeps the keys elsewhere.
            contact.phone_key = phone_key(contact.phone)
            contact.email_key = email_key(contact.email)
            data = dict(known.data or {}) if known is not None else {}
            for name, value in item.data.items():
                if value is None:
                    data.pop(name, None)
                else:
                    data[name] = value
            contact.data = data
            rows.append(contact)
        # One statement for new and known contacts alike (an UPDATE per row, or
        # bulk_update's CASE over a thousand rows, took over a second); a phone
        # created by another request since the look above is updated, not refused.
        Contact.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["phone"],
            update_fields=[
                "name",
                "email",
                "timezone",
                "phone_key",
                "email_key",
                "data",
                "updated_at",
            ],
        )
        by_phone = {contact.phone: contact for contact in rows}
    outcome.contacts = [
        (item.position, by_phone[item.phone], item.phone not in existing)
        for item in ready
    ]
    return outcome
