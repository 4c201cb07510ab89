"""The messages list's filters beyond their sidebar choices: the biggest and the
smallest campaign and run, a channel with each, and date ranges typed in (the first
and the last day of messages, and an old week sent)."""

from typing import Any

from bench.admin.pages.page import Page


def message_filter_pages(base: str, reps: dict[Any, dict[str, Any]]) -> list[Page]:
    from django.utils import timezone

    from campaigns.models import Campaign, CampaignRun
    from messaging.models import Channel, Message

    label = "messaging.message"
    queries: list[tuple[str, str]] = []
    for size, campaign in reps.get(Campaign, {}).items():
        queries.append((f"campaign {size}", f"campaign={campaign.pk}"))
    for size, run in reps.get(CampaignRun, {}).items():
        queries.append((f"run {size}", f"run={run.pk}"))
    channels = list(Channel.objects.order_by("pk").values_list("pk", flat=True))
    big_run = reps.get(CampaignRun, {}).get("big")
    for channel in channels:
        queries.append((f"channel #{channel}", f"channel={channel}"))
        if big_run is not None:
            queries.append(
                (
                    f"run big and channel #{channel}",
                    f"run={big_run.pk}&channel={channel}",
                )
            )
    first = Message.objects.order_by("id").values_list("created_at", flat=True).first()
    last = Message.objects.order_by("-id").values_list("created_at", flat=True).first()
    if first is not None and last is not None:
        oldest = timezone.localtime(first).date().isoformat()
        newest = timezone.localtime(last).date().isoformat()
        queries += [
            ("written on the first day", f"date_from={oldest}&date_until={oldest}"),
            ("written on the last day", f"date_from={newest}&date_until={newest}"),
            ("sent on the first day", f"date_of=sent&date_until={oldest}"),
            (
                "written on the first day, first channel",
                f"date_from={oldest}&date_until={oldest}&channel={channels[0]}",
            ),
        ]
    return [
        Page(f"{label}: filter {name}", f"{base}?{query}", "filter")
        for name, query in queries
    ]
