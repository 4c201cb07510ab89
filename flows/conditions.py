"""Branch conditions: the same tests as dynamic groups' rules, on one step."""

from dataclasses import dataclass
from typing import Any

from django.db.models import Q

from audiences.models import GroupRule
from audiences.rules import rule_condition


@dataclass(frozen=True)
class BranchCondition:
    field: str
    op: str
    value: str


def branch_condition(step: dict[str, Any]) -> BranchCondition:
    condition = step.get("condition") or {}
    return BranchCondition(
        field=(condition.get("field") or "").strip(),
        op=condition.get("op") or "",
        value=condition.get("value") or "",
    )


def branch_q(step: dict[str, Any]) -> Q:
    """The contacts for whom the branch step answers yes, as a Contact condition."""
    return rule_condition(branch_condition(step))


def describe(step: dict[str, Any]) -> str:
    """The condition as an operator reads it: ``MONTO is greater than 1000``."""
    condition = branch_condition(step)
    labels = dict(GroupRule.Op.choices)
    return " ".join(
        part
        for part in (
            condition.field,
            labels.get(condition.op, condition.op),
            condition.value,
        )
        if part
    )
