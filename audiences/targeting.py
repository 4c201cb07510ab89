"""Targeting: the contacts of some groups, minus those of others, that meet some
conditions (seed 004, "select predetermined customer groups … set multiple
conditions and select customers that satisfy All/any").

One query, whatever the number of groups: listed members through EXISTS on the
memberships, dynamic groups through their own conditions, exclusions through NOT
EXISTS. Each contact comes once, however many of the groups it is in.
"""

from collections.abc import Iterable
from dataclasses import dataclass

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


def _in_any(groups: Iterable[AudienceGroup]) -> Q | None:
    """A contact is in at least one of ``groups``: a listed member of a static one,
    or matching a dynamic one's rules (raises RuleError for a rule gone bad). None
    when no group can have a member."""
    listed = []
    conditions = []
    for group in groups:
        if group.kind == AudienceGroup.Kind.DYNAMIC:
            rules = list(group.rules.all())
            if rules:  # a dynamic group without rules has no members
                conditions.append(group_condition(rules, group.match))
        else:
            listed.append(group.pk)
    if listed:
        members = Membership.objects.filter(contact=OuterRef("pk"), group__in=listed)
        conditions.append(Q(Exists(members)))
    if not conditions:
        return None
    combined = conditions[0]
    for condition in conditions[1:]:
        combined |= condition
    return combined


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
    selected = _in_any(groups) or NOBODY
    left_out = _in_any(excluded)
    if left_out is not None:
        # NOT EXISTS rather than NOT (condition): a custom-data key a contact lacks
        # makes the condition NULL, and NOT NULL would drop the contact too.
        selected &= ~Q(Exists(Contact.objects.filter(left_out, pk=OuterRef("pk"))))
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
