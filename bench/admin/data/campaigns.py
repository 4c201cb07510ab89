"""Campaigns in every status, and the runs each is to have had."""

import datetime as dt
from dataclasses import dataclass
from typing import Any

from bench.admin.data.groups import Groups
from bench.admin.data.sizes import (
    PENDING_CAMPAIGNS,
    SMALL_CAMPAIGNS,
    SMALL_GROUPS,
    SMALL_RUNS,
    Sizes,
)


@dataclass
class CampaignPlan:
    campaign: Any
    group: Any
    size: int
    period: dt.timedelta
    runs: list[str]  # the kind of each run, oldest first


def build_campaigns(
    sizes: Sizes, groups: Groups, flows: dict[str, Any]
) -> list[CampaignPlan]:
    """Campaigns created and moved through the lifecycle code, then dated back so
    their runs lie in the past."""
    from django.utils import timezone

    from campaigns.lifecycle import campaign_create, campaign_transition
    from campaigns.models import Campaign

    now = timezone.now().replace(second=0, microsecond=0)
    day, hour = dt.timedelta(days=1), dt.timedelta(hours=1)
    plans: list[CampaignPlan] = []

    def create(
        name: str, flow: Any, group: Any, schedule: str, moves: list[str]
    ) -> Any:
        campaign = campaign_create(
            name=name,
            description=f"{flow.name} a {group.name}"[:90],
            flow=flow,
            group=group,
            start_at=now + day,
            end_at=now + 60 * day,
            schedule=schedule,
            sender_name="",
            reply_to="",
        )
        for status in moves:
            campaign_transition(campaign=campaign, to=status, note="bench")
        return campaign

    def dated(campaign: Any, start: dt.datetime, end: dt.datetime) -> None:
        Campaign.objects.filter(pk=campaign.pk).update(start_at=start, end_at=end)
        campaign.refresh_from_db()

    everyone = sizes.contacts
    big_a = max(1, sizes.big_runs - (1 if sizes.big_runs >= 2 else 0))
    campaign = create(
        "Cobranza mensual — todos los clientes",
        flows["reminder"],
        groups.everyone,
        "daily",
        ["in_progress"],
    )
    dated(campaign, now - big_a * day + hour, now + 30 * day)
    plans.append(
        CampaignPlan(
            campaign,
            groups.everyone,
            everyone,
            day,
            ["done"] * (big_a - 1) + ["running"],
        )
    )
    if sizes.big_runs >= 2:
        campaign = create(
            "Aviso de privacidad (masivo)",
            flows["notice"],
            groups.everyone,
            "once",
            ["in_progress", "ended"],
        )
        dated(campaign, now - 10 * day, now - 9 * day)
        plans.append(CampaignPlan(campaign, groups.everyone, everyone, day, ["done"]))
    moves = [
        ["in_progress", "ended"],
        ["in_progress"],
        ["in_progress", "suspended"],
        ["ended"],
    ]
    for index in range(SMALL_CAMPAIGNS):
        group = groups.small[index % SMALL_GROUPS]
        flow = flows["promos"][index % len(flows["promos"])]
        schedule = "hourly" if index % 3 == 0 else "daily"
        period = hour if schedule == "hourly" else day
        count = SMALL_RUNS // SMALL_CAMPAIGNS + (
            1 if index < SMALL_RUNS % SMALL_CAMPAIGNS else 0
        )
        status = moves[index % len(moves)]
        campaign = create(
            f"{flow.name} · {group.name} · {index + 1:02d}",
            flow,
            group,
            schedule,
            status,
        )
        start = now - (count + index) * period - hour
        running = status[-1] == "in_progress"
        dated(campaign, start, now + 10 * day if running else start + count * period)
        kinds = ["done"] * count
        if running:
            kinds[-1] = "running"
        elif status[-1] == "ended" and index % 8 == 0:
            kinds[-1] = "cancelled"
        plans.append(CampaignPlan(campaign, group, sizes.small_size + 1, period, kinds))
    for index in range(PENDING_CAMPAIGNS):
        group_pk = groups.tiny[index * 7]
        from audiences.models import AudienceGroup

        create(
            f"Próxima campaña {index + 1}",
            flows["promos"][index],
            AudienceGroup.objects.get(pk=group_pk),
            ["daily", "hourly", "once", "minute"][index % 4],
            [],
        )
    return plans
