"""Conditions of a behavioural-event flow on the event's properties (seed 002):
ALL must hold for the event to put the contact on the flow, and only events for
which they hold count as occurrences (Flow.event_occurrence, event_within).

Properties are the sender's JSON, untyped: a value that reads as a number is
compared as a number (5 equals 5, 5.0 and "5"; greater and less than hold only for
numbers), anything else as text.
"""

import re
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models

# A top-level property name; no leading digit, which the databases' JSON paths
# would read as a list index.
PROPERTY_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,63}$")


class FlowEventCondition(models.Model):
    """One condition on a property of the event that triggers a flow."""

    class Op(models.TextChoices):
        EQUALS = "equals", "equals"
        CONTAINS = "contains", "contains"
        GREATER = "gt", "is greater than"
        LESS = "lt", "is less than"
        IN = "in", "is one of"

    flow = models.ForeignKey(
        "flows.Flow", on_delete=models.CASCADE, related_name="event_conditions"
    )
    property = models.CharField(
        max_length=64,
        help_text="The event property to test, as the sender names it in "
        '"properties", e.g. total or plan.',
    )
    op = models.CharField(
        "condition",
        max_length=10,
        choices=Op.choices,
        help_text="Greater / less than compare numbers; contains ignores case.",
    )
    value = models.CharField(
        max_length=200,
        help_text="What to compare with, e.g. 1000 or gold; for 'is one of', "
        "comma-separated (gold, platinum).",
    )

    class Meta:
        ordering = ["flow", "id"]
        verbose_name = "event condition"

    def __str__(self) -> str:
        return f"{self.property} {self.get_op_display()} {self.value}"

    def clean(self) -> None:
        problem = condition_problem(self.property, self.op, self.value)
        if problem is not None:
            raise ValidationError({problem[0]: problem[1]})


def as_number(text: str) -> int | float | None:
    """``text`` as a number, or None when it is not one."""
    try:
        number = float(text.strip())
    except ValueError:
        return None
    if number != number or number in (float("inf"), float("-inf")):
        return None
    return int(number) if number.is_integer() else number


def listed(value: str) -> list[str]:
    """The items of an 'is one of' value."""
    return [item.strip() for item in value.split(",") if item.strip()]


def condition_problem(prop: str, op: str, value: str) -> tuple[str, str] | None:
    """What is wrong with a condition, as (field, message), or None."""
    if not PROPERTY_NAME.match(prop.strip()):
        return (
            "property",
            f"{prop!r} is not a property name: letters, digits, _ . - (at most 64), "
            "starting with a letter or _.",
        )
    if op not in FlowEventCondition.Op.values:
        return ("op", f"Choose the condition; {op!r} is not one.")
    if not value.strip():
        return ("value", "Give the value to compare with.")
    if op in ("gt", "lt") and as_number(value) is None:
        return ("value", f"'{op_label(op)}' compares numbers; {value!r} is not one.")
    if op == "in" and not listed(value):
        return ("value", "List the values, comma-separated (gold, platinum).")
    return None


def op_label(op: str) -> str:
    labels: dict[Any, str] = dict(FlowEventCondition.Op.choices)
    return labels.get(op, op)
