"""The objects whose pages are requested: the worst cases a real installation
would have, not whichever rows come first."""

from typing import Any

from bench.admin.db import sql, table


def representatives() -> dict[Any, dict[str, Any]]:
    """Objects whose pages are requested, by model: "big" and "small" (their change
    pages should run the same queries), and others worth a look. For contacts, big is
    the one with the most messages; for groups, runs and campaigns, the biggest; else
    the first and the last."""
    from django.contrib import admin
    from django.db.models import Count, Sum

    from audiences.models import AudienceGroup, Contact, Membership
    from campaigns.models import Campaign, CampaignRun
    from flows.models import Flow, Journey
    from messaging.models import InboundMessage, Message

    reps: dict[Any, dict[str, Any]] = {}
    for model in admin.site._registry:
        manager = model._default_manager
        found = {
            "big": manager.order_by("pk").first(),
            "small": manager.order_by("-pk").first(),
        }
        reps[model] = {name: obj for name, obj in found.items() if obj is not None}

    def pick(model: Any, **objects: Any) -> None:
        if model in reps:
            reps[model].update((k, v) for k, v in objects.items() if v is not None)

    busiest = sql(
        f"SELECT contact_id FROM {table(Message)} GROUP BY contact_id "
        "ORDER BY count(*) DESC, contact_id LIMIT 1"
    )
    contact = Contact.objects.filter(pk=busiest[0][0]).first() if busiest else None
    pick(Contact, big=contact)
    biggest = (
        Membership.objects.values("group").annotate(n=Count("id")).order_by("-n")
    ).first()
    statics = AudienceGroup.objects.filter(kind=AudienceGroup.Kind.STATIC)
    pick(
        AudienceGroup,
        big=AudienceGroup.objects.get(pk=biggest["group"]) if biggest else None,
        small=statics.order_by("-pk").first(),
        dynamic=AudienceGroup.objects.filter(kind="dynamic").order_by("pk").first(),
    )
    big_run = CampaignRun.objects.order_by("-messages_created", "pk").first()
    if big_run is None:
        return reps
    pick(
        CampaignRun,
        big=big_run,
        small=CampaignRun.objects.order_by("messages_created", "pk").first(),
    )
    totals = (
        CampaignRun.objects.values("campaign")
        .annotate(n=Sum("messages_created"))
        .order_by("-n")
    )
    campaign = Campaign.objects.get(pk=totals[0]["campaign"])
    same = [
        row["campaign"]
        for row in totals.filter(campaign__status=campaign.status)
        if row["campaign"] != campaign.pk
    ]
    pick(
        Campaign,
        big=campaign,
        small=Campaign.objects.filter(pk__in=same[-1:]).first(),
        pending=Campaign.objects.filter(status="pending").order_by("pk").first(),
    )
    simplest = Flow.objects.annotate(n=Count("steps")).order_by("n", "-pk").first()
    pick(Flow, big=campaign.flow, small=simplest)
    if contact is not None:
        pick(
            Journey,
            big=Journey.objects.filter(cohort__run=big_run, contact=contact).first(),
        )
        pick(
            Message,
            big=Message.objects.filter(
                batch__cohort__run=big_run, contact=contact
            ).first(),
        )
        pick(InboundMessage, big=InboundMessage.objects.filter(contact=contact).first())
    return reps
