"""Seed 004's "Reply message sent to": a contact's reply to a team's bulk message is
in the team member's Inbox; the operator reads the thread, answers, and the contact
receives the answer; then the operator closes the conversation."""

from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from audiences.models import Contact
from messaging.models import Conversation, Message, Team
from messaging.outbox import batch_open
from messaging.receipts import reply_record
from tests.conftest import wait_for
from tests.e2e.conftest import Screens, sign_in
from tests.messaging.inbox_helpers import PHONE, message_sent
from tests.messaging.provider import RecordingBackend

RECORDING = "tests.messaging.provider.RecordingBackend"


@pytest.mark.django_db(transaction=True)
def test_an_operator_answers_a_reply_from_the_inbox_and_closes_it(
    page: Page,
    screens: Screens,
    celery_worker: Any,
    settings: Any,
    make_operator: Any,
    make_channel: Any,
) -> None:
    settings.MESSAGING_BACKENDS = {
        "console": "tests.messaging.provider.RecordingBackend"
    }
    # Reset as the provider fixture does: hooks other tests left would run here.
    RecordingBackend.sent = []
    RecordingBackend.failures = {}
    RecordingBackend.on_send = []
    operator = make_operator()
    team = Team.objects.create(name="Ventas")
    team.members.add(operator)
    contact = Contact.objects.create(phone=PHONE, name="Carlos")
    channel = make_channel(name="SMS Ventas")
    batch = batch_open(
        name="Bulk: spring offer",
        templates={"1": {"body": "¿Te interesa la oferta?"}},
        reply_team=team,
    )
    message_sent(batch=batch, contact=contact, channel=channel, at=timezone.now())
    reply_record(channel=channel, sender=PHONE, body="Sí, ¿cuánto cuesta?")

    sign_in(page, screens, operator.username, "inbox-login")
    page.goto("/admin/messaging/conversation/")
    row = page.locator("#result_list tr", has_text="Carlos")
    expect(row).to_contain_text("Ventas")
    expect(row).to_contain_text("Sí, ¿cuánto cuesta?")
    screens.shot(page, "inbox-list")

    row.get_by_role("link").first.click()
    thread = page.locator("ol.thread")
    expect(thread).to_contain_text("¿Te interesa la oferta?")
    expect(thread).to_contain_text("Sí, ¿cuánto cuesta?")
    page.fill("#answer-text", "Hola {{NAME}}, cuesta $200")
    screens.shot(page, "inbox-conversation-answering")
    page.get_by_role("button", name="Send answer").click()
    expect(page.locator(".messagelist")).to_contain_text("Answer queued")

    answer = Message.objects.filter(batch__answer__isnull=False)
    assert wait_for(lambda: answer.filter(status="sent").exists(), timeout=30)
    assert RecordingBackend.sent == [
        (answer.get().pk, PHONE, "Hola Carlos, cuesta $200")
    ]
    page.reload()
    expect(thread).to_contain_text("Hola Carlos, cuesta $200")
    expect(thread).to_contain_text("answer by olivia · sent")
    screens.shot(page, "inbox-conversation-answered")

    page.get_by_role("button", name="Close").click()
    expect(page.locator(".messagelist")).to_contain_text("is closed")
    expect(page.get_by_role("button", name="Reopen")).to_be_visible()
    screens.shot(page, "inbox-conversation-closed")
    assert Conversation.objects.get().status == "closed"
