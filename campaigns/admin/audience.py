"""Count recipients on the campaign form: whom the targeting chosen, not saved yet,
goes to."""

from typing import Any

from audiences.rules import RuleError
from audiences.targeting import Condition, audience_count

from ..models import CampaignRule
from ..targeting import audience_capped_text, targeting_select, version_channel_ids


def rule_conditions(formset: Any) -> list[Condition]:
    """The conditions of a valid formset of CampaignRule rows, deleted and empty
    rows left out."""
    return [
        Condition(row["field"], row["op"], row["value"])
        for row in formset.cleaned_data
        if row and not row.get("DELETE")
    ]


def form_audience_count(form: Any, formsets: list[Any]) -> str:
    """ "Goes to 12,408 contacts; 312 opted out are skipped." (and how many a
    frequency cap would hold) for a campaign form and
    its conditions' formset as validated, or what keeps them from being counted."""
    if form.errors or not all(formset.is_valid() for formset in formsets):
        return "Correct the errors below to count the recipients."
    data = form.cleaned_data
    rules = [
        rule
        for formset in formsets
        if formset.model is CampaignRule
        for rule in rule_conditions(formset)
    ]
    try:
        contacts = targeting_select(
            group=data["group"],
            also_groups=data.get("also_groups") or (),
            excluded_groups=data.get("excluded_groups") or (),
            rules=rules,
            match=data.get("match") or "all",
        )
        counted = audience_count(contacts)
    except RuleError as exc:  # a dynamic group's rule gone bad since it was saved
        return f"The groups cannot be counted: {exc.message}"
    flow = data.get("flow")
    return str(counted) + audience_capped_text(
        contacts,
        channel_ids=version_channel_ids(flow.current_version if flow else None),
        reachable=counted.reachable,
    )
