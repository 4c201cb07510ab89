"""Frequency caps: a marketing message over a cap waits, visibly, and goes out when
the contact is under the cap again."""

import datetime as dt
import uuid
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client, override_settings
from django.utils import timezone

from audiences.models import Contact
from console.views.timeline import message_event
from messaging.capping import capped_until, caps_hold, contacts_capped_count
from messaging.claims import claim
from messaging.models import Batch, Channel, FrequencyCap, Message
from messaging.outbox import batch_open, batches_stop
from messaging.sending import DispatchReport, messages_send_range
from messaging.sweep import messages_sweep

MARKETING: dict[str, Any] = {"run": 1}
TRANSACTIONAL: dict[str, Any] = {"transactional": True}


@pytest.fixture
def ana(db: None) -> Contact:
    return Contact.objects.create(phone="+525512340001", name="Ana")


@pytest.fixture
def channel(make_channel: Any) -> Channel:
    return make_channel(name="SMS")


def write(
    contact: Contact,
    channel: Channel,
    tags: dict[str, Any] | None = None,
    steps: int = 1,
) -> list[Message]:
    """A batch of its own (another campaign) with ``steps`` messages to ``contact``."""
    batch = batch_open(
        name="campaign",
        templates={str(s): {"body": f"Hola {s}"} for s in range(1, steps + 1)},
        tags=MARKETING if tags is None else tags,
    )
    return [
        Message.objects.create(batch=batch, contact=contact, step=s, channel=channel)
        for s in range(1, steps + 1)
    ]


def send(messages: list[Message], now: dt.datetime | None = None) -> DispatchReport:
    ids = [m.pk for m in messages]
    return messages_send_range(
        batch_id=messages[0].batch_id, first_id=min(ids), last_id=max(ids), now=now
    )


def status(message: Message) -> str:
    message.refresh_from_db()
    return message.status


@pytest.mark.django_db
def test_a_fourth_message_in_seven_days_waits_until_the_first_leaves_the_window(
    ana: Contact, channel: Channel, provider: Any
) -> None:
    FrequencyCap.objects.create(messages=3, days=7)
    first = write(ana, channel)
    for messages in (first, write(ana, channel), write(ana, channel)):
        assert send(messages).sent == 1
    fourth = write(ana, channel)

    report = send(fourth)

    assert (report.sent, report.deferred) == (0, 1)
    held = Message.objects.get(pk=fourth[0].pk)
    sent_at = Message.objects.get(pk=first[0].pk).sent_at
    assert sent_at is not None
    assert held.status == "deferred"
    assert held.not_before == sent_at + dt.timedelta(days=7)
    assert held.error == (
        f"capped until {held.not_before:%Y-%m-%d %H:%M} UTC (3 messages in 7 days)"
    )
    assert (held.attempts, held.claim_token, held.lease_until) == (0, None, None)
    assert capped_until(held) == held.not_before
    assert len(provider.sent) == 3

    # Not before its time, even when asked...
    assert send(fourth, now=held.not_before - dt.timedelta(minutes=1)).sent == 0
    # ...and then it goes, its "capped" note cleared.
    later = held.not_before + dt.timedelta(seconds=1)
    assert send(fourth, now=later).sent == 1
    held.refresh_from_db()
    assert (held.status, held.error, held.attempts) == ("sent", "", 1)


@pytest.mark.django_db
def test_transactional_sends_are_neither_held_nor_counted(
    ana: Contact, channel: Channel, provider: Any
) -> None:
    FrequencyCap.objects.create(messages=1, days=7)
    assert send(write(ana, channel, TRANSACTIONAL)).sent == 1
    assert send(write(ana, channel)).sent == 1  # the transactional one not counted
    assert send(write(ana, channel, TRANSACTIONAL)).sent == 1  # nor held
    assert send(write(ana, channel, {"conversation": 4})).sent == 1
    assert send(write(ana, channel)).deferred == 1


@pytest.mark.django_db
def test_a_channel_cap_holds_only_that_channels_messages(
    ana: Contact, channel: Channel, make_channel: Any, provider: Any
) -> None:
    email = make_channel(name="Mail")
    FrequencyCap.objects.create(messages=1, days=1, channel=channel)
    assert send(write(ana, channel)).sent == 1

    held = write(ana, channel)
    assert send(held).deferred == 1
    assert send(write(ana, email)).sent == 1
    assert Message.objects.get(pk=held[0].pk).error.endswith(
        "(1 message in 1 days on SMS)"
    )


@pytest.mark.django_db
def test_a_disabled_cap_holds_nothing_and_caps_apply_together(
    ana: Contact, channel: Channel, make_channel: Any, provider: Any
) -> None:
    FrequencyCap.objects.create(messages=1, days=7, enabled=False)
    FrequencyCap.objects.create(messages=5, days=7)
    FrequencyCap.objects.create(messages=2, days=1, channel=channel)
    other = make_channel(name="Other")
    assert send(write(ana, channel)).sent == 1
    assert send(write(ana, channel)).sent == 1
    assert send(write(ana, channel)).deferred == 1  # 2 a day on SMS
    assert send(write(ana, other)).sent == 1
    assert send(write(ana, other)).sent == 1
    assert send(write(ana, other)).sent == 1  # 5 in 7 days, all channels
    assert send(write(ana, other)).deferred == 1


@pytest.mark.django_db
def test_within_a_chunk_a_contacts_messages_go_in_order_until_the_cap(
    ana: Contact, channel: Channel, provider: Any
) -> None:
    FrequencyCap.objects.create(messages=3, days=7)
    bruno = Contact.objects.create(phone="+525512340002", name="Bruno")
    messages = write(ana, channel, steps=5)
    batch = Batch.objects.get(pk=messages[0].batch_id)
    messages.append(
        Message.objects.create(batch=batch, contact=bruno, step=1, channel=channel)
    )

    report = send(messages)

    assert (report.sent, report.deferred) == (4, 2)
    assert [status(m) for m in messages] == ["sent"] * 3 + ["deferred"] * 2 + ["sent"]
    # Held a moment only (the three were still being sent when counted); counted
    # again then, they wait for the first of the three to leave the window.
    waiting = Message.objects.filter(status="deferred").order_by("id")
    now = timezone.now()
    for message in waiting:
        assert message.not_before is not None
        assert now < message.not_before < now + dt.timedelta(minutes=4)
    assert send(list(waiting), now=now + dt.timedelta(minutes=5)).deferred == 2
    first = Message.objects.get(pk=messages[0].pk)
    assert first.sent_at is not None
    for message in Message.objects.filter(status="deferred"):
        assert message.not_before == first.sent_at + dt.timedelta(days=7)


@pytest.mark.django_db
def test_two_workers_racing_for_one_contact_never_both_send_over_the_cap(
    ana: Contact, channel: Channel, provider: Any
) -> None:
    FrequencyCap.objects.create(messages=3, days=7)
    bruno = Contact.objects.create(phone="+525512340002", name="Bruno")
    for contact in (ana, bruno, ana, bruno):
        assert send(write(contact, channel)).sent == 1
    now = timezone.now()

    def claimed(contact: Contact) -> tuple[Batch, list[Message], uuid.UUID]:
        """A chunk of another campaign's batch claimed by a worker of its own."""
        message = write(contact, channel)[0]
        batch = Batch.objects.get(pk=message.batch_id)
        token = uuid.uuid4()
        return batch, claim(batch, message.pk, message.pk, token, now), token

    def checked(chunk: tuple[Batch, list[Message], uuid.UUID]) -> int:
        batch, messages, token = chunk
        kept, _ = caps_hold(batch=batch, messages=messages, token=token, now=now)
        return len(kept)

    # Both claims commit before either check: the first to check sees the other's
    # claim and waits; the second, the first's claim given back, may go.
    one, two = claimed(ana), claimed(ana)
    assert [checked(one), checked(two)] == [0, 1]
    assert status(one[1][0]) == "deferred"

    # One checks before the other claims: the later one sees the claim.
    three = claimed(bruno)
    assert checked(three) == 1
    four = claimed(bruno)
    assert checked(four) == 0
    waiting = Message.objects.get(pk=four[1][0].pk)
    # Waiting for a send in flight: counted again in a few minutes, not in days.
    assert waiting.not_before is not None
    assert waiting.not_before < now + dt.timedelta(minutes=4)


@pytest.mark.django_db
def test_a_held_message_is_cancelled_when_its_campaign_ends(
    ana: Contact, channel: Channel, provider: Any
) -> None:
    FrequencyCap.objects.create(messages=1, days=7)
    send(write(ana, channel))
    held = write(ana, channel)
    assert send(held).deferred == 1

    batches_stop(
        batches=Batch.objects.filter(pk=held[0].batch_id), reason="campaign ended"
    )

    assert status(held[0]) == "cancelled"
    later = timezone.now() + dt.timedelta(days=8)
    assert send(held, now=later).sent == 0


@pytest.mark.django_db
def test_the_timeline_says_capped_until_and_hours_say_otherwise(
    ana: Contact, channel: Channel, provider: Any
) -> None:
    FrequencyCap.objects.create(messages=1, days=7)
    send(write(ana, channel))
    held = write(ana, channel)
    send(held)
    message = Message.objects.select_related("channel", "batch").get(pk=held[0].pk)

    event = message_event(message)

    assert event.status == "deferred"
    assert event.detail.startswith("capped until ")
    assert "(1 message in 7 days)" in event.detail
    # Deferred again later for active hours: no longer said to be capped.
    assert message.not_before is not None
    message.not_before += dt.timedelta(hours=3)
    assert capped_until(message) is None
    assert message_event(message).detail.startswith("outside active hours")


@pytest.mark.django_db
def test_the_preview_counts_the_contacts_a_cap_would_hold(
    ana: Contact, channel: Channel, make_channel: Any, provider: Any
) -> None:
    other = make_channel(name="Other")
    bruno = Contact.objects.create(phone="+525512340002", name="Bruno")
    Contact.objects.create(phone="+525512340003", name="Carla")
    everyone = Contact.objects.all()
    now = timezone.now() + dt.timedelta(seconds=1)
    assert contacts_capped_count(contacts=everyone, channel_ids=None, now=now) == 0

    FrequencyCap.objects.create(messages=2, days=7)
    FrequencyCap.objects.create(messages=1, days=7, channel=channel)
    send(write(ana, channel))
    send(write(bruno, other))
    send(write(bruno, other, TRANSACTIONAL))
    now = timezone.now() + dt.timedelta(seconds=1)

    # Ana is at the SMS cap; Bruno's transactional message does not count.
    assert contacts_capped_count(contacts=everyone, channel_ids=None, now=now) == 1
    assert (
        contacts_capped_count(contacts=everyone, channel_ids=[other.pk], now=now) == 0
    )
    send(write(bruno, other))
    assert (
        contacts_capped_count(contacts=everyone, channel_ids=[other.pk], now=now) == 1
    )
    later = now + dt.timedelta(days=7)
    assert contacts_capped_count(contacts=everyone, channel_ids=None, now=later) == 0


@pytest.mark.django_db
def test_a_campaigns_audience_says_how_many_a_cap_would_hold(
    make_campaign: Any, provider: Any
) -> None:
    from campaigns.targeting import campaign_audience_text
    from tests.conftest import PHONES

    campaign = make_campaign()
    FrequencyCap.objects.create(messages=1, days=7)
    assert campaign_audience_text(campaign) == "Goes to 3 contacts."
    ana = Contact.objects.get(phone=PHONES[0])
    send(write(ana, Channel.objects.get()))

    assert campaign_audience_text(campaign) == (
        "Goes to 3 contacts. 1 of 3 is at a frequency cap and would wait until "
        "under it again."
    )


@pytest.mark.django_db
def test_the_admin_lists_caps_in_words(admin_client: Client, channel: Channel) -> None:
    FrequencyCap.objects.create(messages=3, days=7)
    FrequencyCap.objects.create(messages=1, days=1, channel=channel)

    page = admin_client.get("/admin/messaging/frequencycap/").content.decode()

    assert "At most 3 messages per contact per 7 days, all channels" in page
    assert "At most 1 message per contact per day, on SMS" in page
    assert "never held nor counted" in page


@override_settings(MESSAGING_RETENTION_DAYS=30)
def test_a_cap_cannot_count_further_back_than_messages_are_kept() -> None:
    with pytest.raises(ValidationError, match="kept 30 days"):
        FrequencyCap(messages=3, days=60).clean()


@pytest.mark.django_db
def test_the_message_list_says_a_held_message_is_capped(
    admin_client: Client, ana: Contact, channel: Channel, provider: Any
) -> None:
    FrequencyCap.objects.create(messages=1, days=7)
    send(write(ana, channel))
    send(write(ana, channel))

    page = admin_client.get("/admin/messaging/message/").content.decode()

    assert "Capped (waiting for a frequency cap)" in page


@pytest.mark.django_db
def test_the_sweeper_queues_a_held_message_only_once_its_time_comes(
    ana: Contact, channel: Channel, provider: Any, redis_client: Any
) -> None:
    FrequencyCap.objects.create(messages=1, days=7)
    send(write(ana, channel))
    held = write(ana, channel)
    send(held)
    until = Message.objects.get(pk=held[0].pk).not_before
    assert until is not None

    assert messages_sweep(now=until - dt.timedelta(minutes=1)) == 0
    assert messages_sweep(now=until + dt.timedelta(seconds=1)) == 1
    assert redis_client.llen("celery") == 1
    assert send(held, now=until + dt.timedelta(seconds=2)).sent == 1
