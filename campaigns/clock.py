"""Campaigns whose time has come: started at their start, ended at their end (beat
calls campaigns_advance every 30 s; a run's tick checks its own campaign)."""

import datetime as dt

from django.db.models import Q
from django.utils import timezone

from .lifecycle import CampaignRefused, campaign_end, campaign_transition
from .models import Campaign, CampaignStatus


def campaign_start_if_due(*, campaign: Campaign, now: dt.datetime) -> Campaign:
    """Pending → in progress once the start time has come."""
    if campaign.status == CampaignStatus.PENDING and now >= campaign.start_at:
        try:
            campaign_transition(
                campaign=campaign,
                to=CampaignStatus.IN_PROGRESS,
                note="start time reached",
                only_if=Q(start_at__lte=now),
            )
        except CampaignRefused:
            campaign.refresh_from_db()
    return campaign


def campaign_end_if_due(*, campaign: Campaign, now: dt.datetime) -> bool:
    """End the campaign if its end time has passed. Return whether it has ended."""
    if campaign.status == CampaignStatus.ENDED:
        return True
    if now < campaign.end_at:
        return False
    try:
        campaign_end(
            campaign=campaign,
            note="end time reached",
            only_if=Q(end_at__lte=now),
            on_demand=False,
        )
    except CampaignRefused:
        campaign.refresh_from_db()
    return campaign.status == CampaignStatus.ENDED


def campaigns_advance(*, now: dt.datetime | None = None) -> tuple[int, int]:
    """Start every pending campaign whose start has come and end every campaign (even
    a suspended one) whose end has passed. Return (started, ended)."""
    now = now or timezone.now()
    started = ended = 0
    for campaign in Campaign.objects.not_ended().filter(end_at__lte=now):
        ended += campaign_end_if_due(campaign=campaign, now=now)
    for campaign in Campaign.objects.filter(
        status=CampaignStatus.PENDING, start_at__lte=now
    ):
        campaign_start_if_due(campaign=campaign, now=now)
        started += campaign.status == CampaignStatus.IN_PROGRESS
    return started, ended
