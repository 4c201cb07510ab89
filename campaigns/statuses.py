"""A campaign's statuses, their legal moves, and its execution plans."""

from django.db import models


class CampaignStatus(models.TextChoices):
    PENDING = "pending", "Pending execution"
    IN_PROGRESS = "in_progress", "In progress"
    SUSPENDED = "suspended", "Suspended"
    ENDED = "ended", "Ended"


# Every legal move of Campaign.status; campaigns.lifecycle.campaign_transition() is the
# only code that writes the field. Ended is final: finishing cannot be undone
# (README, "How a campaign runs").
CAMPAIGN_TRANSITIONS: dict[str, frozenset[str]] = {
    CampaignStatus.PENDING: frozenset(
        {CampaignStatus.IN_PROGRESS, CampaignStatus.ENDED}
    ),
    CampaignStatus.IN_PROGRESS: frozenset(
        {CampaignStatus.SUSPENDED, CampaignStatus.ENDED}
    ),
    CampaignStatus.SUSPENDED: frozenset({CampaignStatus.PENDING, CampaignStatus.ENDED}),
    CampaignStatus.ENDED: frozenset(),
}


class Schedule(models.TextChoices):
    MINUTE = "minute", "Every minute"
    HOURLY = "hourly", "Hourly"
    DAILY = "daily", "Daily"
    ONCE = "once", "Once (bulk message)"
