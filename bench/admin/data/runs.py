"""The campaigns' runs, each with its cohort, as a tick would open them."""

from dataclasses import dataclass
from typing import Any

from bench.admin.data.campaigns import CampaignPlan


@dataclass
class RunPlan:
    run: Any
    flow_id: int
    group_id: int
    kind: str
    size: int
    send_step: dict[str, Any]
    wait_position: int | None
    end_position: int


def build_runs(plans: list[CampaignPlan]) -> list[RunPlan]:
    from campaigns.models import CampaignRun
    from flows.cohorts import cohort_open

    runs: list[RunPlan] = []
    for plan in plans:
        campaign = plan.campaign
        steps = campaign.flow_version.steps
        send = next(step for step in steps if step["kind"] == "send")
        wait = next((s["position"] for s in steps if s["kind"] == "wait"), None)
        end = max(s["position"] for s in steps if s["kind"] == "end")
        made = CampaignRun.objects.bulk_create(
            CampaignRun(
                campaign=campaign,
                scheduled_for=campaign.start_at + number * plan.period,
                flow_version_id=campaign.flow_version_id,
                status=kind,
            )
            for number, kind in enumerate(plan.runs)
        )
        for run in made:
            if run.status != "skipped":
                run.cohort = cohort_open(
                    version=campaign.flow_version,
                    name=str(run),
                    sender_name=campaign.sender_name,
                    reply_to=campaign.reply_to,
                    window=campaign.window,
                    tags={"run": run.pk},
                )
        CampaignRun.objects.bulk_update(made, ["cohort"])
        runs.extend(
            RunPlan(
                run,
                campaign.flow_id,
                plan.group.pk,
                kind,
                plan.size,
                send,
                wait,
                end,
            )
            for run, kind in zip(made, plan.runs, strict=True)
        )
    return runs
