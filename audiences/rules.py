"""Dynamic groups: each rule becomes a database condition; ALL or ANY combines them.

Custom data is compared through JSON key lookups, which compare numbers as numbers
and never fail on a value of another type. Dates are stored as YYYY-MM-DD text, so
they compare in calendar order.
"""

import datetime as dt
from collections.abc import Iterable
from typing import Any, Protocol

from django.db.models import Q

from .dates import iso_date_problem
from .variables import Variable


class Rule(Protocol):
    """A test of one contact field: a group's rule, or a flow's branch condition."""

    @property
    def field(self) -> str: ...
    @property
    def op(self) -> str: ...
    @property
    def value(self) -> str: ...


# Contact fields a rule may test, and the kind of value each holds.
CONTACT_FIELDS = {
    "PHONE": ("phone", "text"),
    "NAME": ("name", "text"),
    "EMAIL": ("email", "text"),
    "OPTED_OUT": ("opted_out_at", "flag"),
}
OPS_BY_KIND = {
    "text": {"equals", "differs", "contains", "is_set", "is_empty"},
    "number": {"equals", "differs", "gt", "lt", "is_set", "is_empty"},
    "date": {"equals", "differs", "before", "after", "is_set", "is_empty"},
    "flag": {"is_set", "is_empty"},
}
NEEDS_NO_VALUE = {"is_set", "is_empty"}


class RuleError(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def _kind_and_lookup(name: str) -> tuple[str, str]:
    if name.upper() in CONTACT_FIELDS:
        column, kind = CONTACT_FIELDS[name.upper()]
        return kind, column
    found = Variable.objects.filter(name=name).values_list("kind", flat=True).first()
    if found is None:
        raise RuleError(
            "field",
            f"{name!r} is neither PHONE, NAME, EMAIL, OPTED_OUT nor a custom-data "
            "variable (variables come with the first import that brings them).",
        )
    return found, f"data__{name}"


def _typed(rule: Rule, kind: str) -> Any:
    text = rule.value.strip()
    if rule.op in NEEDS_NO_VALUE:
        return None
    if not text:
        raise RuleError("value", "Give the value to compare with.")
    if kind == "number":
        try:
            number = float(text)
        except ValueError:
            raise RuleError(
                "value", f"{rule.field} holds numbers; {text!r} is not one."
            ) from None
        return int(number) if number.is_integer() else number
    if kind == "date":
        try:
            return dt.date.fromisoformat(text).isoformat()
        except ValueError:
            problem = iso_date_problem(text) or f"{text!r} is not a date"
            raise RuleError("value", f"{rule.field} holds dates; {problem}.") from None
    return text


def rule_condition(rule: Rule) -> Q:
    """The condition one rule sets, or RuleError saying what is wrong with it."""
    if not rule.field.strip():
        raise RuleError("field", "Name the field to test (e.g. MONTO).")
    kind, lookup = _kind_and_lookup(rule.field)
    if rule.op not in OPS_BY_KIND[kind]:
        allowed = ", ".join(sorted(OPS_BY_KIND[kind]))
        raise RuleError(
            "op", f"{rule.field} holds {kind} values; use one of: {allowed}."
        )
    value = _typed(rule, kind)
    is_data = lookup.startswith("data__")
    if rule.op in NEEDS_NO_VALUE:
        if kind == "flag":
            present = Q(**{f"{lookup}__isnull": False})
        elif is_data:
            present = Q(data__has_key=rule.field) & ~Q(**{lookup: ""})
        else:
            present = ~Q(**{lookup: ""})
        return present if rule.op == "is_set" else ~present
    if rule.op == "equals":
        return Q(**{lookup: value})
    if rule.op == "differs":
        return ~Q(**{lookup: value}) | (
            ~Q(data__has_key=rule.field) if is_data else Q(pk__in=[])
        )
    if rule.op == "contains":
        return Q(**{f"{lookup}__icontains": value})
    suffix = {"gt": "gt", "after": "gt", "lt": "lt", "before": "lt"}[rule.op]
    return Q(**{f"{lookup}__{suffix}": value})


def group_condition(rules: Iterable[Rule], match: str) -> Q:
    """A dynamic group's rules combined, all of them (``match`` "all") or any; no
    rules match no contact."""
    conditions = [rule_condition(rule) for rule in rules]
    if not conditions:
        return Q(pk__in=[])
    combined = conditions[0]
    for condition in conditions[1:]:
        combined = combined & condition if match == "all" else combined | condition
    return combined
