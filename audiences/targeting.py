"""Targeting: the contacts of some groups, minus those of others, that meet some
conditions (seed 004, "select predetermined customer groups … set multiple
conditions and select customers that satisfy All/any").

One query, whatever the number of groups: listed members through EXISTS on the
memberships, dynamic groups through their own conditions, exclusions through NOT
EXISTS. Each contact comes once, however many of the groups it is in.
"""

import operator
from collections.abc import Iterable
from dataclasses import dataclass
from functools import reduce

from django.db.models import Count, Exists, OuterRef, Q

from .models import AudienceGroup, Contact, ContactQuerySet, GroupRule, Membership
from .rules import Rule, group_condition

# Matches no contact and still compiles to SQL (an INSERT … SELECT reads it):
# Q(pk__in=[]) would raise EmptyResultSet instead.
NOBODY = Q(pk__isnull=True)


@dataclass(frozen=True)
class Condition:
    """A condition given in a form, not (yet) saved: what audience_select reads of
    a rule."""

    field: str
    op: str
    value: str = ""

    def __str__(self) -> str:
        ops = dict(GroupRule.Op.choices)
        return f"{self.field} {ops.get(self.op, self.op)} {self.value}".strip()


@dataclass(frozen=True)
class AudienceCount:
    total: int
    opted_out: int

    @property
    def reachable(self) -> int:
        return self.total - self.opted_out

    def __str__(self) -> str:
        text = f"Goes to {self.reachable:,} contacts"
        if self.opted_out == 1:
            return text + "; 1 opted out is skipped."
        if self.opted_out:
            return text + f"; {self.opted_out:,} opted out are skipped."
        return text + "."


def _listed_in(groups: list[int]) -> Q:
    """A listed member of one of these static groups."""
    members = Membership.objects.filter(contact=OuterRef("pk"), group__in=groups)
    return Q(Exists(members))


def _split(groups: Iterable[AudienceGroup]) -> tuple[list[int], Q | None]:
    """The static groups' ids, and the dynamic groups' conditions combined with OR
    (None for none; raises RuleError for a rule gone bad)."""
    listed: list[int] = []
    matching: Q | None = None
    for group in groups:
        if group.kind != AudienceGroup.Kind.DYNAMIC:
            listed.append(group.pk)
            continue
        rules = list(group.rules.all())
        if rules:  # a dynamic group without rules has no members
            condition = group_condition(rules, group.match)
            matching = condition if matching is None else matching | condition
    return listed, matching


def audience_select(
    *,
    groups: Iterable[AudienceGroup],
    excluded: Iterable[AudienceGroup] = (),
    rules: Iterable[Rule] = (),
    match: str = AudienceGroup.Match.ALL,
) -> ContactQuerySet:
    """The contacts in any of ``groups``, in none of ``excluded``, meeting ``rules``
    (all of them, or any for ``match`` "any"; no rules: no condition). Opted-out
    contacts included: a run skips them, a count says how many. One query; raises
    RuleError naming what is wrong with a rule."""
    listed, matching = _split(groups)
    parts = [_listed_in(listed)] if listed else []
    if matching is not None:
        parts.append(matching)
    selected = reduce(operator.or_, parts) if parts else NOBODY
    listed_out, matching_out = _split(excluded)
    # Top-level NOT EXISTS: the database reads them as anti-joins.
    if listed_out:
        selected &= ~_listed_in(listed_out)
    if matching_out is not None:
        # Not NOT (condition): a custom-data key a contact lacks makes the
        # condition NULL, and NOT NULL would leave the contact out too.
        same = Contact.objects.filter(matching_out, pk=OuterRef("pk"))
        selected &= ~Q(Exists(same))
    rules = list(rules)
    if rules:
        selected &= group_condition(rules, match)
    return Contact.objects.filter(selected)


def audience_count(contacts: ContactQuerySet) -> AudienceCount:
    """How many contacts, and how many of them opted out: one COUNT with a
    FILTER."""
    counted = contacts.order_by().aggregate(
        total=Count("pk"), opted_out=Count("pk", filter=Q(opted_out_at__isnull=False))
    )
    return AudienceCount(total=counted["total"], opted_out=counted["opted_out"])
