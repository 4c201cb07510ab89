"""Why a campaign's status refuses an operator's action, in the operator's words; ""
when it allows it. The one place these texts are written.

The console asks these before it shows a form or a confirmation, so a page opened
from a stale list or a second tab says the real reason at once rather than asking
"Yes?" for nothing; they read the campaign as given, unlocked. The functions of
campaigns.lifecycle (and the modify checks of campaigns.targeting and the admin's
campaign form) stay the guard when the action is carried out: they ask the same
functions, on the campaign as read or locked then (``fresh`` reads its runs again),
and raise with the text returned, so the console and the guard never say two things.
"""

from .models import Campaign, CampaignStatus


def _is(campaign: Campaign) -> str:
    status = campaign.get_status_display()
    if campaign.status == CampaignStatus.ENDED:
        return f"Campaign {campaign.name!r} has ended"
    return f"Campaign {campaign.name!r} is {status}"


def campaign_modify_refusal(*, campaign: Campaign) -> str:
    """Only a pending or suspended campaign can be modified (seed 000)."""
    if campaign.is_editable:
        return ""
    if campaign.status == CampaignStatus.IN_PROGRESS:
        return (
            f"{_is(campaign)}: suspend it first. Only a pending or suspended "
            "campaign can be modified; saving a suspended one resumes it."
        )
    return f"{_is(campaign)}: an ended campaign can no longer be modified."


def campaign_delete_refusal(*, campaign: Campaign) -> str:
    if campaign.is_deletable:
        return ""
    return f"{_is(campaign)}: suspend it or finish it first, then delete it."


def campaign_suspend_refusal(*, campaign: Campaign, fresh: bool = False) -> str:
    """``fresh``: whether a bulk message was sent is read from its runs now, not
    from what a list annotated (the guard, under the campaign's lock)."""
    if campaign.status != CampaignStatus.IN_PROGRESS:
        return f"{_is(campaign)}: only a campaign in progress can be suspended."
    if campaign.is_sent_bulk(fresh=fresh):
        return (
            f"Bulk message {campaign.name!r} has been sent; there is nothing left "
            "to suspend."
        )
    return ""


def campaign_resume_refusal(*, campaign: Campaign) -> str:
    if campaign.status != CampaignStatus.SUSPENDED:
        return f"{_is(campaign)}: only a suspended campaign can be resumed."
    return ""


def campaign_end_refusal(
    *, campaign: Campaign, fresh: bool = False, on_demand: bool = True
) -> str:
    """``fresh`` as for campaign_suspend_refusal. Ending a sent bulk message is
    refused only when an operator asks (``on_demand``): the clock and the bulk
    module still end it once it is over."""
    if campaign.status == CampaignStatus.ENDED:
        return f"{_is(campaign)} already: there is nothing left to finish."
    if on_demand and campaign.is_sent_bulk(fresh=fresh):
        return (
            f"Bulk message {campaign.name!r} has been sent; it can no longer be "
            "cancelled."
        )
    return ""
