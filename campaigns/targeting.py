"""Whom a campaign goes to: its first group and its other groups, minus its excluded
groups, meeting its conditions (all or any). Read with campaign_audience, counted
with campaign_audience_count, written by campaign_target (called by
campaigns.lifecycle when a campaign is created or modified)."""

from collections.abc import Iterable, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone

from audiences.models import AudienceGroup, ContactQuerySet
from audiences.rules import Rule, RuleError, rule_condition
from audiences.targeting import AudienceCount, audience_count, audience_select
from base.audit import audit_record
from flows.models import FlowVersion
from messaging.capping import contacts_capped_count

from .models import Campaign, CampaignRule
from .refusals import campaign_modify_refusal

# What campaign_create and campaign_update take beyond the campaign's own columns.
TARGETING = ("also_groups", "excluded_groups", "rules")


def targeting_pop(fields: dict[str, Any]) -> dict[str, Any]:
    """Take the targeting out of a campaign's ``fields`` (left with its columns)."""
    return {name: fields.pop(name) for name in TARGETING if name in fields}


def targeting_errors(
    *,
    group: AudienceGroup | None,
    also_groups: Iterable[AudienceGroup] = (),
    excluded_groups: Iterable[AudienceGroup] = (),
    rules: Iterable[Rule] = (),
) -> dict[str, str]:
    """What is wrong with a targeting, by the field to show it on."""
    errors: dict[str, str] = {}
    included = {g.pk: g for g in also_groups} | ({group.pk: group} if group else {})
    both = sorted(g.name for g in excluded_groups if g.pk in included)
    if both:
        errors["excluded_groups"] = (
            f"{', '.join(both)} cannot be both sent to and excluded; take "
            f"{'it' if len(both) == 1 else 'them'} out of one of the lists."
        )
    for number, rule in enumerate(rules, start=1):
        try:
            rule_condition(rule)
        except RuleError as exc:
            errors["rules"] = (
                f"Condition {number} ({rule.field or 'no field'}), "
                f"{exc.field}: {exc.message}"
            )
            break
    return errors


def campaign_target(
    *,
    campaign: Campaign,
    also_groups: Iterable[AudienceGroup] | None = None,
    excluded_groups: Iterable[AudienceGroup] | None = None,
    rules: Sequence[Rule] | None = None,
) -> None:
    """Set what a saved campaign targets besides its first group; None leaves that
    part as it is. Raises ValidationError (changing nothing) when the groups
    overlap or a condition is wrong. The caller guards whether the campaign may be
    modified (campaigns.lifecycle)."""
    also = list(also_groups) if also_groups is not None else None
    excluded = list(excluded_groups) if excluded_groups is not None else None
    errors = targeting_errors(
        group=campaign.group,
        also_groups=also if also is not None else campaign.also_groups.all(),
        excluded_groups=excluded
        if excluded is not None
        else campaign.excluded_groups.all(),
        rules=rules or (),
    )
    if errors:
        raise ValidationError(errors)
    if also is not None:
        campaign.also_groups.set([g for g in also if g.pk != campaign.group_id])
    if excluded is not None:
        campaign.excluded_groups.set(excluded)
    if rules is not None:
        CampaignRule.objects.filter(campaign=campaign).delete()
        CampaignRule.objects.bulk_create(
            CampaignRule(campaign=campaign, field=r.field, op=r.op, value=r.value)
            for r in rules
        )


def campaign_conditions_set(
    *, campaign: Campaign, rules: Sequence[Rule], actor: Any = None
) -> None:
    """Replace the conditions of a pending or suspended campaign (the admin's
    inline rows), recorded in the audit trail; raises ValidationError otherwise."""
    current = Campaign.objects.get(pk=campaign.pk)
    refusal = campaign_modify_refusal(campaign=current)
    if refusal:
        raise ValidationError(refusal)
    before = [str(rule) for rule in current.rules.all()]
    campaign_target(campaign=current, rules=rules)
    after = [str(rule) for rule in current.rules.all()]
    if before != after:
        audit_record(
            action="change",
            target=current,
            changes={"rules": [before, after]},
            actor=actor,
        )


def campaign_audience(campaign: Campaign) -> ContactQuerySet:
    """Every contact the campaign goes to, once each, opted out or not (a run
    skips those): one query."""
    return audience_select(
        groups=[campaign.group, *campaign.also_groups.all()],
        excluded=campaign.excluded_groups.all(),
        rules=campaign.rules.all(),
        match=campaign.match,
    )


def campaign_audience_count(campaign: Campaign) -> AudienceCount:
    return audience_count(campaign_audience(campaign))


def version_channel_ids(version: FlowVersion | None) -> set[int] | None:
    """The channels a flow version sends on (None for no version: any)."""
    if version is None:
        return None
    return {step.get("channel_id") for step in version.steps} - {None}


def audience_capped_text(
    contacts: ContactQuerySet, *, channel_ids: set[int] | None, reachable: int
) -> str:
    """ " 412 of 10,000 are at a frequency cap and would wait …" for the
    ``reachable`` ``contacts`` of a marketing send on ``channel_ids`` (None: on
    any), or "" when no cap would hold any of them now. One grouped query."""
    capped = contacts_capped_count(
        contacts=contacts.filter(opted_out_at__isnull=True),
        channel_ids=channel_ids,
        now=timezone.now(),
    )
    if not capped:
        return ""
    verb = "is" if capped == 1 else "are"
    return (
        f" {capped:,} of {reachable:,} {verb} at a frequency cap and would wait "
        "until under it again."
    )


def campaign_audience_text(campaign: Campaign) -> str:
    """How many contacts the saved campaign goes to, skips, and a frequency cap
    would hold now."""
    contacts = campaign_audience(campaign)
    counted = audience_count(contacts)
    version = campaign.flow_version or (
        campaign.flow.current_version if campaign.flow_id else None
    )
    return str(counted) + audience_capped_text(
        contacts,
        channel_ids=version_channel_ids(version),
        reachable=counted.reachable,
    )


def targeting_select(
    *,
    group: AudienceGroup,
    also_groups: Iterable[AudienceGroup] = (),
    excluded_groups: Iterable[AudienceGroup] = (),
    rules: Iterable[Rule] = (),
    match: str = AudienceGroup.Match.ALL,
) -> ContactQuerySet:
    """The contacts a targeting chosen in a form, not saved yet, goes to, opted out
    or not."""
    return audience_select(
        groups=[group, *also_groups], excluded=excluded_groups, rules=rules, match=match
    )


def targeting_count(
    *,
    group: AudienceGroup,
    also_groups: Iterable[AudienceGroup] = (),
    excluded_groups: Iterable[AudienceGroup] = (),
    rules: Iterable[Rule] = (),
    match: str = AudienceGroup.Match.ALL,
) -> AudienceCount:
    """How many contacts a targeting chosen in a form, not saved yet, goes to and
    skips (opted out): one query."""
    return audience_count(
        targeting_select(
            group=group,
            also_groups=also_groups,
            excluded_groups=excluded_groups,
            rules=rules,
            match=match,
        )
    )


def targeting_snapshot(campaign: Campaign) -> dict[str, Any]:
    """The targeting beyond the first group, as the audit trail stores it."""
    return {
        "also_groups": sorted(g.name for g in campaign.also_groups.all()),
        "excluded_groups": sorted(g.name for g in campaign.excluded_groups.all()),
        "rules": [str(rule) for rule in campaign.rules.all()],
    }


def targeting_text(campaign: Campaign) -> str:
    """The targeting in a line: "A + B − C, any of 2 conditions"."""
    text = " + ".join(
        [campaign.group.name, *(g.name for g in campaign.also_groups.all())]
    )
    excluded = [g.name for g in campaign.excluded_groups.all()]
    if excluded:
        text += " − " + " − ".join(excluded)
    rules = list(campaign.rules.all())
    if len(rules) == 1:
        text += f", if {rules[0]}"
    elif rules:
        text += f", {campaign.match} of {len(rules)} conditions"
    return text
