"""Demo data: a group with a few contacts, a published flow, a campaign whose replies
go to a team's inbox, and a published chatbot flow that waits for replies (try it
with `manage.py receive_reply`). Idempotent."""

import datetime as dt

from django.db import transaction
from django.utils import timezone

from audiences.models import AudienceGroup, Contact, Membership, Variable
from flows.models import Flow, FlowStep
from flows.publishing import flow_publish
from messaging.models import Channel, Team

from .lifecycle import campaign_create
from .models import Campaign, Schedule

DEMO_CONTACTS = [
    (
        "+525500998877",
        "Carlos",
        {"NOMBRE": "Carlos", "MONTO": 1200, "FECHA": "2016-12-25"},
    ),
    ("+525511223344", "Ana", {"NOMBRE": "Ana", "MONTO": 1350, "FECHA": "2016-10-25"}),
    (
        "+525533445566",
        "Alfredo",
        {"NOMBRE": "Alfredo", "MONTO": 1480, "FECHA": "2016-11-25"},
    ),
]
DEMO_VARIABLES = {"NOMBRE": "text", "MONTO": "number", "FECHA": "date"}
DEMO_CAMPAIGN = "Demo: payment reminder"


def demo_load(*, now: dt.datetime | None = None) -> Campaign | None:
    """Create the demo objects that are missing; return the campaign if new."""
    if Campaign.objects.filter(name=DEMO_CAMPAIGN).exists():
        return None
    now = now or timezone.now()
    with transaction.atomic():
        channel, _ = Channel.objects.get_or_create(
            name="Console", defaults={"kind": Channel.Kind.CONSOLE}
        )
        group, _ = AudienceGroup.objects.get_or_create(
            name="Demo customers",
            defaults={"description": "Three contacts with custom data."},
        )
        for variable, kind in DEMO_VARIABLES.items():
            Variable.objects.get_or_create(name=variable, defaults={"kind": kind})
        for phone, name, data in DEMO_CONTACTS:
            contact, _ = Contact.objects.get_or_create(
                phone=phone, defaults={"name": name, "data": data}
            )
            Membership.objects.get_or_create(group=group, contact=contact)
        flow, created = Flow.objects.get_or_create(
            name="Payment reminder",
            defaults={
                "description": "The amount due; a minute later, a VIP offer for "
                "amounts over 1300 and a saving tip for the rest."
            },
        )
        if created:
            step = FlowStep.objects.create
            step(
                flow=flow,
                position=1,
                kind=FlowStep.Kind.SEND,
                channel=channel,
                body="Hola {{NOMBRE}}, your payment of ${{MONTO}} is due on {{FECHA}}.",
            )
            step(
                flow=flow,
                position=2,
                kind=FlowStep.Kind.WAIT,
                wait=dt.timedelta(minutes=1),
            )
            step(
                flow=flow,
                position=3,
                kind=FlowStep.Kind.BRANCH,
                condition_field="MONTO",
                condition_op="gt",
                condition_value="1300",
                yes_step=4,
                no_step=5,
            )
            step(
                flow=flow,
                position=4,
                kind=FlowStep.Kind.SEND,
                channel=channel,
                body="{{NOMBRE}}, as a VIP customer you can pay in 3 instalments ⭐",
                next_step=6,
            )
            step(
                flow=flow,
                position=5,
                kind=FlowStep.Kind.SEND,
                channel=channel,
                body="{{NOMBRE}}, pay before {{FECHA}} and save 5% 💸",
            )
            step(flow=flow, position=6, kind=FlowStep.Kind.END)
        if not flow.can_run_in_campaign:
            flow_publish(flow=flow)
        _chatbot_flow(channel)
        team, _ = Team.objects.get_or_create(name="Cobranza")
        # First tick on the next whole minute at least 30 s away, then hourly.
        start = (now + dt.timedelta(seconds=90)).replace(second=0, microsecond=0)
        return campaign_create(
            name=DEMO_CAMPAIGN,
            description="Reminds the demo customers of their payment every hour.",
            flow=flow,
            group=group,
            start_at=start,
            end_at=start + dt.timedelta(days=7),
            schedule=Schedule.HOURLY,
            reply_team=team,
        )


def _chatbot_flow(channel: Channel) -> Flow:
    """Asks whether they pay today, waits a day for the reply, keeps it as
    RESPUESTA and answers yes, no, or nothing."""
    flow, created = Flow.objects.get_or_create(
        name="Payment chatbot",
        defaults={
            "description": "Asks whether they pay today and answers what they "
            "reply (seed 003's chatbot)."
        },
    )
    if created:
        step = FlowStep.objects.create
        step(
            flow=flow,
            position=1,
            kind=FlowStep.Kind.SEND,
            channel=channel,
            body="Hola {{NOMBRE}}, ¿paga hoy sus ${{MONTO}}? Responda SI o NO.",
        )
        step(
            flow=flow,
            position=2,
            kind=FlowStep.Kind.REPLY,
            channel=channel,
            wait=dt.timedelta(days=1),
            reply_test=FlowStep.ReplyTest.YES_NO,
            save_reply_as="RESPUESTA",
            yes_step=3,
            no_step=4,
            timeout_step=5,
        )
        step(
            flow=flow,
            position=3,
            kind=FlowStep.Kind.SEND,
            channel=channel,
            body="Gracias {{NOMBRE}}, lo esperamos hoy.",
            next_step=5,
        )
        step(
            flow=flow,
            position=4,
            kind=FlowStep.Kind.SEND,
            channel=channel,
            body="Entendido {{NOMBRE}}: le escribimos mañana.",
            next_step=5,
        )
        step(flow=flow, position=5, kind=FlowStep.Kind.END)
    if not flow.can_run_in_campaign:
        flow_publish(flow=flow)
    return flow
