"""Replies become inbox conversations, assigned to whom the batch's replies go."""

import datetime as dt
import json
import time
import uuid
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse

from audiences.models import Contact
from base.signing import signed_headers
from messaging.credentials import channel_signing_secrets
from messaging.inbox import ConversationRefused, conversation_close, conversation_reopen
from messaging.models import Conversation, InboundMessage
from messaging.outbox import batch_open
from messaging.receipts import reply_record
from tests.messaging.inbox_helpers import (
    MORNING,
    PHONE,
    Sent,
    message_sent,
    sent_for_team,
)

pytestmark = pytest.mark.django_db
LATER = MORNING + dt.timedelta(minutes=30)
INBOX = reverse("admin:messaging_conversation_changelist")


@pytest.fixture
def sent(make_channel: Any, make_user: Any) -> Sent:
    return sent_for_team(make_channel, make_user)


def listed(client: Client, user: User, query: str = "") -> set[int]:
    client.force_login(user)
    response = client.get(INBOX + query)
    assert response.status_code == 200
    return {conversation.pk for conversation in response.context["cl"].result_list}


def test_a_reply_to_a_teams_batch_opens_a_conversation_in_the_teams_inbox(
    client: Client, sent: Sent
) -> None:
    reply = reply_record(
        channel=sent.channel, sender=PHONE, body="Sí, ¿cuánto cuesta?", now=LATER
    )

    assert reply is not None
    assert reply.conversation is not None
    conversation = reply.conversation
    assert (conversation.team, conversation.assignee) == (sent.team, None)
    assert (conversation.contact, conversation.channel) == (sent.contact, sent.channel)
    assert conversation.status == "open"
    assert conversation.opened_at == conversation.last_reply_at == LATER
    assert InboundMessage.objects.get().conversation == conversation
    assert listed(client, sent.member) == {conversation.pk}
    assert listed(client, sent.member, "?whose=teams") == {conversation.pk}
    assert listed(client, sent.other, "?whose=mine") == set()
    assert listed(client, sent.other) == set()  # not unassigned: the team's
    assert listed(client, sent.other, "?whose=all") == {conversation.pk}


def test_a_batch_with_a_reply_to_operator_assigns_the_conversation_to_them(
    client: Client, sent: Sent
) -> None:
    batch = batch_open(
        name="Bulk to Bob",
        templates={"1": {"body": "Hola"}},
        reply_team=sent.team,
        reply_user=sent.other,
    )
    message_sent(batch=batch, contact=sent.contact, channel=sent.channel, at=LATER)

    reply = reply_record(channel=sent.channel, sender=PHONE, body="Hola", now=LATER)

    assert reply is not None
    assert reply.conversation is not None
    assert reply.conversation.assignee == sent.other
    assert reply.conversation.team == sent.team
    assert listed(client, sent.other, "?whose=mine") == {reply.conversation.pk}


def test_a_second_reply_continues_it_and_after_close_a_reply_opens_a_new_one(
    client: Client, sent: Sent
) -> None:
    first = reply_record(channel=sent.channel, sender=PHONE, body="Hola", now=LATER)
    second = reply_record(
        channel=sent.channel,
        sender=PHONE,
        body="¿Sigue en pie?",
        now=LATER + dt.timedelta(minutes=5),
    )
    assert first
    assert second
    assert first.conversation
    assert second.conversation
    conversation = first.conversation
    assert second.conversation.pk == conversation.pk
    conversation.refresh_from_db()
    assert conversation.last_reply_at == LATER + dt.timedelta(minutes=5)
    assert conversation.last_text == "¿Sigue en pie?"
    assert conversation.replies.count() == 2

    conversation_close(
        conversation=conversation, by=sent.member, now=LATER + dt.timedelta(hours=1)
    )
    third = reply_record(
        channel=sent.channel,
        sender=PHONE,
        body="Otra pregunta",
        now=LATER + dt.timedelta(hours=2),
    )

    assert third
    assert third.conversation
    assert third.conversation.pk != conversation.pk
    conversation.refresh_from_db()
    assert (conversation.status, conversation.closed_by) == ("closed", sent.member)
    assert listed(client, sent.member) == {third.conversation.pk}
    assert listed(client, sent.member, "?state=closed") == {conversation.pk}
    with pytest.raises(ConversationRefused, match="is open; continue there"):
        conversation_reopen(conversation=conversation, by=sent.member)


def test_a_stop_reply_opens_no_conversation(sent: Sent) -> None:
    reply = reply_record(channel=sent.channel, sender=PHONE, body="STOP", now=LATER)

    assert reply is not None
    assert reply.inbound.opted_out
    assert reply.conversation is None
    assert not Conversation.objects.exists()


def test_a_sender_who_is_no_contact_gets_an_unassigned_conversation_by_address(
    client: Client, sent: Sent
) -> None:
    stranger = "+525599990000"
    first = reply_record(channel=sent.channel, sender=stranger, body="¿Quién es?")
    again = reply_record(channel=sent.channel, sender=stranger, body="¿Hola?")

    assert first
    assert again
    assert first.conversation
    assert again.conversation
    assert first.conversation.pk == again.conversation.pk
    conversation = first.conversation
    assert (conversation.contact, conversation.team, conversation.assignee) == (
        None,
        None,
        None,
    )
    assert listed(client, sent.other) == {conversation.pk}  # unassigned: everyone's
    # The database keeps it one: a second open one for the address is refused
    # (two replies arriving at once end in the same conversation).
    with pytest.raises(IntegrityError), transaction.atomic():
        Conversation.objects.create(
            channel=sent.channel,
            sender=stranger,
            opened_at=LATER,
            last_message_at=LATER,
            last_reply_at=LATER,
        )


def test_the_conversation_page_shows_the_thread_in_time_order(
    client: Client, sent: Sent
) -> None:
    reply_record(channel=sent.channel, sender=PHONE, body="Sí, ¿cuánto?", now=LATER)
    conversation = Conversation.objects.get()
    client.force_login(sent.member)

    page = client.get(
        reverse("admin:messaging_conversation_change", args=[conversation.pk])
    ).content.decode()

    offer, answer = page.index("¿Te interesa la oferta?"), page.index("Sí, ¿cuánto?")
    assert offer < answer
    assert "Spring sale, run of 2 March" in page
    assert "sent" in page
    assert 'id="answer-form"' in page
    assert "Assign to me" in page
    assert "Close" in page


def test_a_signed_inbound_hook_leads_to_a_conversation(
    client: Client, make_channel: Any, make_user: Any
) -> None:
    sent = sent_for_team(
        make_channel,
        make_user,
        name="CRM",
        kind="webhook",
        settings={"url": "http://x"},
    )
    body = json.dumps({"from": PHONE, "text": "Quiero saber más", "id": "in-1"})
    [secret] = channel_signing_secrets(sent.channel)
    hook_id = f"msg_{uuid.uuid4().hex}"

    response = client.post(
        f"/hooks/{sent.channel.pk}/inbound",
        body.encode(),
        content_type="application/json",
        headers=signed_headers([secret], hook_id, int(time.time()), body.encode()),
    )

    assert response.status_code == 200, response.content
    conversation = Conversation.objects.get()
    assert conversation.contact == Contact.objects.get(phone=PHONE)
    assert conversation.team == sent.team
    assert conversation.last_text == "Quiero saber más"
