"""Reads about campaigns that other pages and apps ask for: what finishing or
deleting some would do, and the answers campaigns gives the apps below it (which
flows it keeps from being archived, which channel hours its own would never meet)."""

from dataclasses import dataclass

from django.db.models import Count, Sum

from flows.models import Flow, Journey
from messaging.outbox import waiting_count
from messaging.windows import Window, windows_meet

from .models import Campaign, CampaignRun
from .refusals import campaign_end_refusal

# Open journeys and unsent messages are counted up to this many: a run to a million
# contacts waiting on the flow has a million of each, and counting them takes the
# better part of a second.
IMPACT_CAP = 10_000


@dataclass
class FinishImpact:
    """What finishing a campaign terminates, counted now: its open journeys and its
    unsent messages that no worker holds, each up to IMPACT_CAP
    (``journeys_beyond_cap``, ``messages_beyond_cap`` past it)."""

    open_journeys: int
    unsent_messages: int
    journeys_beyond_cap: bool = False
    messages_beyond_cap: bool = False


def campaign_finish_impact(*, campaign: Campaign) -> FinishImpact:
    # The runs' ids first, a few rows: given as a subquery, the planner joins the
    # journeys to it in parallel workers, slower than reading them by their index.
    cohorts = list(
        CampaignRun.objects.filter(campaign=campaign, cohort__isnull=False).values_list(
            "cohort_id", "cohort__batch_id"
        )
    )
    open_journeys = (
        Journey.objects.filter(
            cohort__in=[cohort for cohort, _ in cohorts], status=Journey.Status.ACTIVE
        )
        .order_by()[: IMPACT_CAP + 1]
        .count()
    )
    # What Finish cancels: unsent and not in a worker's hands. Read from the
    # messages, through their (batch, status) index: a big run's stored counts lag
    # behind it, by a whole fan-out when taken while it was written.
    unsent = waiting_count(batch_ids=[batch for _, batch in cohorts], cap=IMPACT_CAP)
    return FinishImpact(
        open_journeys=min(open_journeys, IMPACT_CAP),
        unsent_messages=min(unsent, IMPACT_CAP),
        journeys_beyond_cap=open_journeys > IMPACT_CAP,
        messages_beyond_cap=unsent > IMPACT_CAP,
    )


def campaign_finish_summary(*, campaign: Campaign) -> str:
    """What Finish would do to ``campaign``, as a phrase for its confirmation page:
    the journeys it ends and the messages it cancels; or, when its status refuses
    Finish, why (campaigns.refusals.campaign_end_refusal)."""
    refusal = campaign_end_refusal(campaign=campaign)
    if refusal:
        return refusal
    impact = campaign_finish_impact(campaign=campaign)
    journeys = f"{impact.open_journeys:,}"
    if impact.journeys_beyond_cap:
        journeys = f"more than {journeys}"
    unsent = f"{impact.unsent_messages:,}"
    if impact.messages_beyond_cap:
        unsent = f"more than {unsent}"
    return (
        f"{journeys} open conversations (contacts still on the flow) "
        f"end and {unsent} queued or deferred messages are cancelled"
    )


@dataclass
class DeleteTotals:
    """What deleting some campaigns takes with them, besides their history."""

    runs: int
    messages: int
    journeys: int


def campaigns_delete_totals(*, campaigns: list[Campaign]) -> DeleteTotals:
    """The runs, messages and journeys of ``campaigns``, counted from the runs (one
    query) rather than row by row: a big campaign has millions."""
    totals = CampaignRun.objects.filter(campaign__in=campaigns).aggregate(
        runs=Count("id"),
        messages=Sum("messages_created"),
        journeys=Sum("recipients"),
    )
    return DeleteTotals(
        runs=totals["runs"] or 0,
        messages=totals["messages"] or 0,
        journeys=totals["journeys"] or 0,
    )


def campaigns_on_flow_refusal(flow: Flow) -> str | None:
    """Why ``flow`` may not be archived: campaigns that have not ended use it."""
    users = list(
        Campaign.objects.not_ended()
        .filter(flow=flow)
        .values_list("name", flat=True)[:5]
    )
    if not users:
        return None
    return (
        f"Flow {flow.name!r} is used by campaigns that have not ended "
        f"({', '.join(users)}); end them first."
    )


def channel_window_clashes(channel_id: int, window: Window) -> list[str]:
    """The campaigns not ended, sending on channel ``channel_id`` with active hours
    of their own, whose hours ``window`` would never meet: one sentence each."""
    campaigns = (
        Campaign.objects.not_ended()
        .filter(active_from__isnull=False)
        .select_related("flow_version")
    )
    clashes = []
    for campaign in campaigns:
        steps = campaign.flow_version.steps if campaign.flow_version else []
        if not any(step.get("channel_id") == channel_id for step in steps):
            continue
        if not windows_meet(window, campaign.window):
            clashes.append(
                f"These active hours ({window}) and those of campaign "
                f"{campaign.name!r} ({campaign.window}), which sends on this "
                "channel, are never open at the same time: its messages could never "
                "go out. Change or end the campaign first."
            )
    return clashes
