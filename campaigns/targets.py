"""What a campaign targets beyond its first group: more groups, excluded groups and
conditions on contact data (seed 004). Models only; campaigns.targeting reads and
writes them. Imported by campaigns.models, where the app's models are found."""

from django.core.exceptions import ValidationError
from django.db import models

from audiences.models import GroupRule
from audiences.rules import RuleError, rule_condition


class CampaignAlsoGroup(models.Model):
    # A group still targeted cannot be deleted (as the campaign's first group).
    campaign = models.ForeignKey(
        "campaigns.Campaign", on_delete=models.CASCADE, related_name="+"
    )
    group = models.ForeignKey(
        "audiences.AudienceGroup", on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "group"], name="campaign_also_group_once"
            )
        ]
        # As a group's delete page names it: the campaign that keeps it.
        verbose_name = "campaign also sent to the group"

    def __str__(self) -> str:
        return str(self.campaign)


class CampaignExcludedGroup(models.Model):
    # Deleting an excluded group would silently widen the campaign's audience.
    campaign = models.ForeignKey(
        "campaigns.Campaign", on_delete=models.CASCADE, related_name="+"
    )
    group = models.ForeignKey(
        "audiences.AudienceGroup", on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "group"], name="campaign_excluded_group_once"
            )
        ]
        verbose_name = "campaign excluding the group"

    def __str__(self) -> str:
        return str(self.campaign)


class CampaignRule(models.Model):
    """One condition on contact data that a campaign's contacts must meet; the
    campaign's ``match`` says whether all of them or any."""

    campaign = models.ForeignKey(
        "campaigns.Campaign", on_delete=models.CASCADE, related_name="rules"
    )
    field = models.CharField(
        max_length=64,
        help_text="PHONE, NAME, EMAIL, OPTED_OUT, or a custom-data variable (NOMBRE).",
    )
    op = models.CharField(
        "condition",
        max_length=10,
        choices=GroupRule.Op.choices,
        help_text="How the field is compared; each kind of field allows its own.",
    )
    value = models.CharField(
        max_length=200,
        blank=True,
        help_text="Numbers as 1200, dates as YYYY-MM-DD; empty for is set / is empty.",
    )

    class Meta:
        ordering = ["campaign", "id"]
        verbose_name = "condition"

    def __str__(self) -> str:
        return f"{self.field} {self.get_op_display()} {self.value}".strip()

    def clean(self) -> None:
        try:
            rule_condition(self)
        except RuleError as exc:
            raise ValidationError({exc.field: exc.message}) from None
