"""Whether a stored event puts its contact on an event flow: the flow's conditions
on the event's properties (flows.event_rules) all hold, and the event is the
occurrence the flow waits for ("the 3rd time within 7 days").

Occurrences are counted by the database, in one query per flow: the contact's
stored events of that name, up to and including this one (by time, then by arrival
for events of the same moment), within the flow's days, for which the conditions
hold. ``event_occurrence`` empty enters on every matching event; N enters on exactly
the Nth in the window, so a 4th time within the days enters nobody again.

An event is judged once, when it arrives, among the events stored by then: one
reported late counts in its own time, and events already judged are not judged
again. The events of one contact are stored and judged in turn (the contact's row
is held meanwhile), so two arriving together see each other.
"""

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import NotSupportedError
from django.db.models import CharField, Count, Func, Q
from django.db.models.fields.json import KeyTransform
from django.db.models.lookups import In

from audiences.events import ContactEvent

from .event_rules import FlowEventCondition, as_number, condition_problem, listed
from .models import Flow

# What each database calls a JSON number.
NUMBER_TYPES = ["number", "integer", "real"]


class PropertyType(Func):
    """The JSON type of one top-level key of ``properties``: PostgreSQL's
    jsonb_typeof, SQLite's json_type."""

    output_field = CharField()

    def __init__(self, key: str) -> None:
        super().__init__("properties")
        self.key = key

    def as_sql(
        self,
        compiler: Any,
        connection: Any,
        function: str | None = None,
        template: str | None = None,
        arg_joiner: str | None = None,
        **extra_context: Any,
    ) -> Any:
        raise NotSupportedError(f"{connection.vendor}: no JSON type function known")

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        sql, params = compiler.compile(self.source_expressions[0])
        return f"jsonb_typeof({sql} -> %s)", (*params, self.key)

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        sql, params = compiler.compile(self.source_expressions[0])
        path = f"$.{json.dumps(self.key)}"  # as Django writes a key's path
        return f"json_type({sql}, %s)", (*params, path)


def _equals(alias: str, text: str) -> Q:
    """The property equals ``text``: as text, and as a number or true / false when
    it reads as one."""
    same = Q(**{alias: text})
    number = as_number(text)
    if number is not None:
        same |= Q(**{alias: number})
    if text.lower() in ("true", "false"):
        same |= Q(**{alias: text.lower() == "true"})
    return same


def condition_q(alias: str, condition: FlowEventCondition) -> Q:
    """The condition on the event whose property is aliased as ``alias``."""
    value = condition.value.strip()
    if condition.op == "equals":
        return _equals(alias, value)
    if condition.op == "in":
        found = Q(pk__in=[])
        for item in listed(value):
            found |= _equals(alias, item)
        return found
    if condition.op == "contains":
        return Q(**{f"{alias}__icontains": value})
    # Greater / less than: numbers only (JSON orders a text after every number on
    # one database and before on the other).
    is_number: In[Any] = In(PropertyType(condition.property.strip()), NUMBER_TYPES)
    return Q(is_number) & Q(**{f"{alias}__{condition.op}": as_number(value)})


@dataclass(frozen=True)
class Verdict:
    """Whether an event puts its contact on a flow; else why not, for the API."""

    enters: bool
    reason: str = ""


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10)
    return f"{n}{suffix or 'th'}"


def event_verdict(
    *,
    flow: Flow,
    event: ContactEvent,
    conditions: Sequence[FlowEventCondition] | None = None,
) -> Verdict:
    """Whether ``event`` (stored) puts its contact on ``flow``, by the flow's
    property conditions and occurrence; one query when it meets the conditions."""
    if conditions is None:
        conditions = list(flow.event_conditions.all())
    for condition in conditions:
        problem = condition_problem(condition.property, condition.op, condition.value)
        if problem is not None:
            return Verdict(False, f"its condition '{condition}' is not usable")
    window = ContactEvent.objects.filter(
        contact_id=event.contact_id,
        name=event.name,
        occurred_at__lte=event.occurred_at,
    ).exclude(occurred_at=event.occurred_at, pk__gt=event.pk)
    if flow.event_within:
        window = window.filter(
            occurred_at__gt=event.occurred_at - dt.timedelta(days=flow.event_within)
        )
    holds = Q()
    for index, condition in enumerate(conditions):
        alias = f"p{index}"
        key = KeyTransform(condition.property.strip(), "properties")
        window = window.alias(**{alias: key})
        holds &= condition_q(alias, condition)
    # The conditions go in WHERE, not in the counts' FILTER: there SQLite is
    # handed a JSON number's value as text ('100'), and no number passes.
    found = window.filter(holds).aggregate(
        n=Count("pk"), this=Count("pk", filter=Q(pk=event.pk))
    )
    if not found["this"]:
        failed = [
            str(condition)
            for index, condition in enumerate(conditions)
            if not window.filter(pk=event.pk)
            .filter(condition_q(f"p{index}", condition))
            .exists()
        ]
        return Verdict(False, "the event's properties fail: " + "; ".join(failed))
    wanted = flow.event_occurrence
    if not wanted or found["n"] == wanted:
        return Verdict(True)
    within = f" within {flow.event_within} days" if flow.event_within else ""
    if found["n"] < wanted:
        return Verdict(False, f"occurrence {found['n']} of {wanted}{within}")
    return Verdict(
        False,
        f"occurrence {found['n']}{within}; only the {_ordinal(wanted)} enters",
    )


def event_rule_problems(flow: Flow) -> list[str]:
    """What is wrong with an event flow's conditions and occurrence, for
    publishing."""
    retention_days = settings.EVENTS_RETENTION_DAYS
    if flow.trigger != Flow.Trigger.EVENT:
        return []
    problems = []
    for condition in flow.event_conditions.all():
        problem = condition_problem(condition.property, condition.op, condition.value)
        if problem is not None:
            problems.append(f"Event condition '{condition}': {problem[1]}")
    if flow.event_within and retention_days and flow.event_within > retention_days:
        problems.append(
            f"Occurrences within {flow.event_within} days cannot be counted: events "
            f"are kept {retention_days} days (EVENTS_RETENTION_DAYS)."
        )
    if flow.event_occurrence == 0:
        problems.append("The occurrence to enter on starts at 1 (empty: every time).")
    if flow.event_within and not flow.event_occurrence:
        problems.append(
            "'Within days' counts occurrences: set the occurrence to enter on (e.g. "
            "3), or leave both empty to enter on every event."
        )
    return problems
