"""Seed 004's case end to end: a bulk message to two groups minus one, with
conditions ANY, whose replies go to a team; a reply appears in that team's inbox,
an operator answers it from the console, and the contact receives the answer."""

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from campaigns.models import Campaign
from campaigns.runs import campaign_tick
from messaging.models import Conversation, Message, Team
from messaging.receipts import reply_record
from messaging.sending import messages_send_range
from tests.campaigns.test_targeting import EXPECTED, PEOPLE, bulk_post, phones
from tests.conftest import batch_of


def send_batch(batch_id: int, now: dt.datetime) -> Any:
    ids = sorted(Message.objects.filter(batch_id=batch_id).values_list("pk", flat=True))
    return messages_send_range(
        batch_id=batch_id, first_id=ids[0], last_id=ids[-1], now=now
    )


@pytest.mark.django_db
def test_seed_004_a_reply_to_a_targeted_bulk_message_is_answered_by_its_team(
    admin_client: Client,
    client: Client,
    audience: dict[str, Any],
    make_channel: Any,
    make_user: Any,
    provider: Any,
) -> None:
    channel = make_channel(name="WhatsApp MX")
    team = Team.objects.create(name="Cobranza")
    ana, bob = make_user("Operator", "ana"), make_user("Operator", "bob")
    team.members.add(ana)

    # The operator composes it: Clientes 2024 + CDMX − Bloqueados, ANY of two
    # conditions, replies to the Cobranza team.
    data = bulk_post(audience, channel, reply_team=team.pk)
    preview = admin_client.post(
        reverse("admin:campaigns_bulk"), {**data, "_preview": "1"}
    ).content.decode()
    assert "Goes to 4 contacts; 1 opted out is skipped." in preview
    assert "replies open a conversation in the inbox of team Cobranza" in preview
    sent = admin_client.post(reverse("admin:campaigns_bulk"), {**data, "_send": "1"})
    assert sent.status_code == 302
    campaign = Campaign.objects.get()
    assert campaign.reply_team == team

    now = campaign.start_at + dt.timedelta(seconds=1)
    run = campaign_tick(campaign_id=campaign.pk, now=now)
    assert run is not None
    assert send_batch(batch_of(run), now).sent == 4
    assert {to for _, to, _ in provider.sent} == phones(*EXPECTED)

    # Rosa (in the static group, MONTO over 1000) answers the message.
    rosa = PEOPLE["rich"][0]
    reply = reply_record(
        channel=channel, sender=rosa, body="¿Puedo pagar en dos partes?"
    )
    assert reply is not None
    assert reply.conversation is not None
    conversation = Conversation.objects.get()
    assert conversation.contact is not None
    assert (conversation.team, conversation.contact.phone) == (team, rosa)

    # It is in Ana's inbox (her team's), not in Bob's.
    inbox = reverse("admin:messaging_conversation_changelist")
    client.force_login(ana)
    assert "¿Puedo pagar en dos partes?" in client.get(inbox).content.decode()
    client.force_login(bob)
    assert "¿Puedo pagar en dos partes?" not in client.get(inbox).content.decode()

    # Ana answers from the console; the answer goes out on the same channel.
    client.force_login(ana)
    answered = client.post(
        reverse("admin:messaging_conversation_answer", args=[conversation.pk]),
        {"text": "Sí, {{NAME}}: la mitad hoy y la mitad el día 15."},
    )
    assert answered.status_code == 302
    answer = Message.objects.exclude(batch_id=batch_of(run)).get()
    assert (answer.contact.phone, answer.channel) == (rosa, channel)
    assert send_batch(answer.batch_id, now + dt.timedelta(minutes=5)).sent == 1
    assert provider.sent[-1][1:] == (
        rosa,
        "Sí, Rosa: la mitad hoy y la mitad el día 15.",
    )
    thread = client.get(
        reverse("admin:messaging_conversation_change", args=[conversation.pk])
    ).content.decode()
    assert thread.index("¿Puedo pagar en dos partes?") < thread.index(
        "la mitad hoy y la mitad el día 15."
    )
