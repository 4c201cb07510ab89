"""The campaigns admin. Django's autodiscovery imports this package: importing the
modules below registers their ModelAdmins."""

from .campaigns import CampaignAdmin, CampaignEventInline
from .runs import CampaignRunAdmin

__all__ = ["CampaignAdmin", "CampaignEventInline", "CampaignRunAdmin"]
