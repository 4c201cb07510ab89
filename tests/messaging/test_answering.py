"""Operators answer conversations over their channel, inside the provider's rules;
Viewers only read."""

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from audiences.models import Contact
from base.models import AuditEntry
from messaging.answering import AnswerRefused, conversation_answer
from messaging.models import Answer, Conversation, Message
from messaging.receipts import reply_record
from tests.conftest import wait_for
from tests.messaging.inbox_helpers import PHONE, sent_for_team

WHATSAPP = {
    "kind": "whatsapp",
    "name": "WhatsApp",
    "settings": {"from": "+14155238886"},
}


def page_of(conversation: Conversation) -> str:
    return reverse("admin:messaging_conversation_change", args=[conversation.pk])


def action_url(conversation: Conversation, name: str) -> str:
    return reverse(f"admin:messaging_conversation_{name}", args=[conversation.pk])


@pytest.mark.django_db(transaction=True)
def test_an_operator_answers_through_the_console_and_the_send_path_delivers_it(
    client: Client,
    celery_worker: Any,
    provider: Any,
    make_channel: Any,
    make_user: Any,
) -> None:
    sent = sent_for_team(make_channel, make_user)
    reply = reply_record(channel=sent.channel, sender=PHONE, body="¿Cuánto cuesta?")
    assert reply is not None
    assert reply.conversation is not None
    conversation = reply.conversation
    client.force_login(sent.member)

    response = client.post(
        action_url(conversation, "answer"), {"text": "Hola {{NAME}}, cuesta $200"}
    )

    assert response.status_code == 302
    answer = Answer.objects.get()
    assert (answer.author, answer.conversation) == (sent.member, conversation)
    message = Message.objects.get(batch=answer.batch)
    assert (message.contact, message.channel) == (sent.contact, sent.channel)
    assert wait_for(lambda: bool(provider.sent))
    assert provider.sent == [(message.pk, PHONE, "Hola Carlos, cuesta $200")]
    message.refresh_from_db()
    assert message.status == "sent"
    assert message.provider_id == f"rec-{message.pk}"
    page = client.get(page_of(conversation)).content.decode()
    assert "Hola Carlos, cuesta $200" in page
    assert "answer by ana" in page
    assert page.index("¿Cuánto cuesta?") < page.index("Hola Carlos, cuesta $200")


@pytest.mark.django_db
def test_a_whatsapp_conversation_is_refused_an_answer_after_24_hours(
    client: Client, make_channel: Any, make_user: Any
) -> None:
    sent = sent_for_team(make_channel, make_user, **WHATSAPP)
    last = timezone.now() - dt.timedelta(hours=25)
    reply = reply_record(channel=sent.channel, sender=PHONE, body="Hola", now=last)
    assert reply is not None
    assert reply.conversation is not None
    conversation = reply.conversation
    client.force_login(sent.member)

    page = client.get(page_of(conversation)).content.decode()
    response = client.post(
        action_url(conversation, "answer"), {"text": "Perdón la demora"}, follow=True
    )

    assert "May be answered until" in page
    assert "answer-form" not in page
    assert "within 24 hours of the contact&#x27;s last message" in page
    assert "Not sent: WhatsApp allows answers only within 24 hours" in (
        response.content.decode().replace("&#x27;", "'")
    )
    assert not Answer.objects.exists()
    assert not Message.objects.filter(batch__answer__isnull=False).exists()


@pytest.mark.django_db
def test_a_whatsapp_answer_is_taken_within_24_hours_of_the_last_reply(
    make_channel: Any, make_user: Any
) -> None:
    sent = sent_for_team(make_channel, make_user, **WHATSAPP)
    last = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)
    reply = reply_record(channel=sent.channel, sender=PHONE, body="Hola", now=last)
    assert reply is not None
    assert reply.conversation is not None
    conversation = Conversation.objects.select_related("channel").get()

    answer = conversation_answer(
        conversation=conversation,
        text="A tiempo",
        by=sent.member,
        now=last + dt.timedelta(hours=23, minutes=59),
    )
    with pytest.raises(AnswerRefused, match="window closed at"):
        conversation_answer(
            conversation=conversation,
            text="Tarde",
            by=sent.member,
            now=last + dt.timedelta(hours=24, minutes=1),
        )

    assert Message.objects.get(batch=answer.batch).status == "queued"
    assert Answer.objects.count() == 1


@pytest.mark.django_db
def test_an_opted_out_contact_cannot_be_answered(
    client: Client, make_channel: Any, make_user: Any
) -> None:
    sent = sent_for_team(make_channel, make_user)
    reply = reply_record(channel=sent.channel, sender=PHONE, body="Hola")
    assert reply is not None
    assert reply.conversation is not None
    Contact.objects.filter(pk=sent.contact.pk).update(opted_out_at=timezone.now())
    client.force_login(sent.member)

    response = client.post(
        action_url(reply.conversation, "answer"), {"text": "¿Sigue ahí?"}, follow=True
    )

    assert "Not sent: Carlos (+525500998877) opted out" in response.content.decode()
    assert "nothing more may be sent to them" in response.content.decode()
    assert not Answer.objects.exists()


@pytest.mark.django_db
def test_an_empty_answer_and_a_closed_conversation_are_refused(
    make_channel: Any, make_user: Any
) -> None:
    sent = sent_for_team(make_channel, make_user)
    reply = reply_record(channel=sent.channel, sender=PHONE, body="Hola")
    assert reply is not None
    assert reply.conversation is not None
    conversation = reply.conversation
    now = timezone.now()

    with pytest.raises(AnswerRefused, match="empty"):
        conversation_answer(
            conversation=conversation, text="  ", by=sent.member, now=now
        )
    Conversation.objects.filter(pk=conversation.pk).update(status="closed")
    with pytest.raises(AnswerRefused, match="is closed: reopen it to answer"):
        conversation_answer(
            conversation=conversation, text="Hi", by=sent.member, now=now
        )
    assert not Answer.objects.exists()


@pytest.mark.django_db
def test_a_viewer_reads_the_inbox_but_every_post_is_refused_and_nothing_is_sent(
    client: Client, make_channel: Any, make_user: Any
) -> None:
    sent = sent_for_team(make_channel, make_user)
    reply = reply_record(channel=sent.channel, sender=PHONE, body="Hola")
    assert reply is not None
    assert reply.conversation is not None
    conversation = reply.conversation
    client.force_login(make_user("Viewer"))

    page = client.get(page_of(conversation))
    posts = [
        client.post(action_url(conversation, "answer"), {"text": "Hola"}),
        client.post(action_url(conversation, "assign_to_me")),
        client.post(action_url(conversation, "close")),
        client.post(action_url(conversation, "reopen")),
        client.post(page_of(conversation), {"assignee": "", "team": ""}),
        client.post(
            reverse("admin:messaging_conversation_changelist"),
            {"action": "close_selected", "_selected_action": [conversation.pk]},
        ),
        client.post(reverse("admin:messaging_team_add"), {"name": "Mine"}),
    ]

    assert page.status_code == 200
    assert "Hola" in page.content.decode()
    assert "answer-form" not in page.content.decode()
    assert [response.status_code for response in posts] == [403] * len(posts)
    conversation.refresh_from_db()
    assert (conversation.status, conversation.assignee, conversation.team) == (
        "open",
        None,
        sent.team,
    )
    assert not Answer.objects.exists()
    assert Message.objects.count() == 1  # the campaign's, nothing more


@pytest.mark.django_db
def test_an_operator_assigns_to_self_closes_and_reopens_from_the_page(
    client: Client, make_channel: Any, make_user: Any
) -> None:
    sent = sent_for_team(make_channel, make_user)
    reply = reply_record(channel=sent.channel, sender=PHONE, body="Hola")
    assert reply is not None
    assert reply.conversation is not None
    conversation = reply.conversation
    client.force_login(sent.other)

    assign = client.post(action_url(conversation, "assign_to_me"))
    conversation.refresh_from_db()
    assert (assign.status_code, conversation.assignee) == (302, sent.other)
    client.post(action_url(conversation, "close"))
    conversation.refresh_from_db()
    assert (conversation.status, conversation.closed_by) == ("closed", sent.other)
    client.post(action_url(conversation, "reopen"))
    conversation.refresh_from_db()
    assert (conversation.status, conversation.closed_at) == ("open", None)
    assert AuditEntry.objects.filter(action="status").count() == 2
