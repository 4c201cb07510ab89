"""The campaigns admin. Django's autodiscovery imports this package: importing the
modules below registers their ModelAdmins."""

from .bulk import BulkMessageAdmin
from .campaigns import CampaignAdmin
from .inlines import CampaignEventInline
from .runs import CampaignRunAdmin

__all__ = [
    "BulkMessageAdmin",
    "CampaignAdmin",
    "CampaignEventInline",
    "CampaignRunAdmin",
]
