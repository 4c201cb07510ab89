"""A contact's timeline: every journey and message, and what became of each."""

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from audiences.models import Contact
from campaigns.models import Campaign
from tests.conftest import PHONES


@pytest.mark.django_db
def test_the_timeline_tells_what_became_of_each_message(
    client: Client,
    make_user: Callable[..., Any],
    make_campaign: Callable[..., Any],
    django_assert_max_num_queries: Any,
) -> None:
    from campaigns.lifecycle import campaign_end
    from campaigns.runs import campaign_tick
    from console.views.timeline_pages import contact_timeline
    from messaging.models import Message

    campaigns = []
    for name in ("Sent one", "Held one", "Failed one", "Finished one"):
        campaign = make_campaign(started=True, name=name)
        Campaign.objects.filter(pk=campaign.pk).update(status="in_progress")
        run = campaign_tick(campaign_id=campaign.pk)
        assert run is not None
        campaigns.append(campaign)
    carlos = Contact.objects.get(phone=PHONES[0])
    mine = Message.objects.filter(contact=carlos)
    opening = timezone.now() + dt.timedelta(hours=9)
    mine.filter(batch__cohort__run__campaign__name="Sent one").update(
        status="sent", sent_at=timezone.now(), body="Hola Carlos", attempts=1
    )
    # Sent after a night outside active hours; sent on the third attempt.
    waited = Message.objects.filter(
        batch__cohort__run__campaign__name="Sent one"
    ).exclude(contact=carlos)
    morning = timezone.now() + dt.timedelta(hours=8)
    waited.filter(contact__phone=PHONES[1]).update(
        status="sent", sent_at=morning, not_before=morning, attempts=1
    )
    waited.filter(contact__phone=PHONES[2]).update(
        status="sent", sent_at=timezone.now(), attempts=3
    )
    mine.filter(batch__cohort__run__campaign__name="Held one").update(
        status="deferred", not_before=opening
    )
    mine.filter(batch__cohort__run__campaign__name="Failed one").update(
        status="failed", attempts=5, error="21211: invalid 'To' number"
    )
    finished = campaigns[3]
    finished.refresh_from_db()
    campaign_end(campaign=finished)

    with django_assert_max_num_queries(7):
        events = contact_timeline(carlos)
    (ana_sent,) = [
        e
        for e in contact_timeline(Contact.objects.get(phone=PHONES[1]))
        if e.status == "sent"
    ]
    assert ana_sent.detail.startswith("held for active hours until ")
    (alfredo_sent,) = [
        e
        for e in contact_timeline(Contact.objects.get(phone=PHONES[2]))
        if e.status == "sent"
    ]
    assert alfredo_sent.detail == "on attempt 3 (the earlier ones failed)"

    lines = {(event.status, event.title, event.detail) for event in events}
    assert ("sent", "Sent on Console 1 (campaign 'Sent one')", "") in lines
    assert any(
        status == "deferred" and "goes out at" in detail and "Held one" in title
        for status, title, detail in lines
    )
    assert any(
        status == "failed" and "after 5 attempts" in title and "21211" in detail
        for status, title, detail in lines
    )
    assert (
        "cancelled",
        "Cancelled on Console 4 (campaign 'Finished one')",
        "cancelled when the campaign was finished",
    ) in lines
    assert sum(1 for event in events if event.status == "entered") == 4
    assert [event.at for event in events] == sorted(
        (event.at for event in events), reverse=True
    )

    client.force_login(make_user("Viewer"))
    page = client.get(reverse("admin:audiences_contact_change", args=[carlos.pk]))
    assert page.status_code == 200
    assert b"Cancelled on Console 4" in page.content
    assert b"Hola Carlos" in page.content


@pytest.mark.django_db
def test_a_new_contact_has_an_empty_timeline_that_says_so(
    client: Client, make_user: Callable[..., Any]
) -> None:
    contact = Contact.objects.create(phone="+525599887766", name="Nueva")
    client.force_login(make_user("Viewer"))

    page = client.get(reverse("admin:audiences_contact_change", args=[contact.pk]))

    assert b"has not been on any flow or campaign" in page.content


def _history(
    contact: Contact, count: int, monkeypatch: pytest.MonkeyPatch
) -> list[int]:
    """``count`` messages to ``contact``, one a second, written in an order other
    than their time's; their ids, newest first by time."""
    import random

    from messaging.models import Batch, Channel, Message

    channel = Channel.objects.create(name="Console line")
    batch = Batch.objects.create(name="History")
    monkeypatch.setattr(Message._meta.get_field("created_at"), "auto_now_add", False)
    start = timezone.now() - dt.timedelta(days=30)
    seconds = list(range(count))
    random.Random(7).shuffle(seconds)
    rows = Message.objects.bulk_create(
        Message(
            batch=batch,
            contact=contact,
            step=1,
            channel=channel,
            body=f"number {second}",
            created_at=start + dt.timedelta(seconds=second),
        )
        for second in seconds
    )
    by_time = sorted(rows, key=lambda message: message.created_at, reverse=True)
    return [message.pk for message in by_time]


@pytest.mark.django_db
def test_events_of_the_same_instant_show_in_the_order_they_happened(
    make_campaign: Callable[..., Any],
) -> None:
    from campaigns.runs import campaign_tick
    from console.views.timeline_pages import contact_timeline
    from flows.models import Journey
    from messaging.models import InboundMessage, Message

    campaign = make_campaign(started=True)
    Campaign.objects.filter(pk=campaign.pk).update(status="in_progress")
    assert campaign_tick(campaign_id=campaign.pk) is not None
    carlos = Contact.objects.get(phone=PHONES[0])
    moment = timezone.now().replace(microsecond=0) - dt.timedelta(minutes=5)
    # Entered, written and answered in the same second (one transaction's clock).
    Journey.objects.filter(contact=carlos).update(entered_at=moment)
    message = Message.objects.get(contact=carlos)
    Message.objects.filter(pk=message.pk).update(created_at=moment)
    InboundMessage.objects.create(
        channel=message.channel,
        sender=carlos.phone,
        contact=carlos,
        body="Gracias",
        received_at=moment,
    )

    events = [event for event in contact_timeline(carlos) if event.at == moment]

    assert [event.kind for event in events] == ["reply", "message", "journey"]


@pytest.mark.django_db
def test_the_timeline_pages_by_exact_time_fifty_events_at_a_time(
    monkeypatch: pytest.MonkeyPatch, django_assert_max_num_queries: Any
) -> None:
    from console.views.timeline_pages import PER_PAGE, timeline_page

    contact = Contact.objects.create(phone="+525599887711", name="Larga")
    newest_first = _history(contact, 10_000, monkeypatch)
    assert newest_first != sorted(newest_first, reverse=True)  # not in id order

    first = timeline_page(contact)
    assert len(first.events) == PER_PAGE
    # The newest second of the history, and each second before it.
    assert first.events[0].at - first.events[-1].at == dt.timedelta(seconds=49)
    assert first.newer == ""
    seen: list[str] = [e.title for e in first.events]
    page = first
    pages = 1
    with django_assert_max_num_queries(7):
        second = timeline_page(contact, before=first.older)
    while page.older:
        page = timeline_page(contact, before=page.older)
        pages += 1
        if pages == 3:
            # Back one page: the second again.
            back = timeline_page(contact, after=page.newer)
            assert [e.at for e in back.events] == [e.at for e in second.events]
        seen += [e.title for e in page.events]
        if pages > 5:
            break
    assert pages == 6
    assert len(seen) == 6 * PER_PAGE
    at = [e.at for e in first.events + second.events]
    assert at == sorted(at, reverse=True)
    assert len(set(at)) == 2 * PER_PAGE


@pytest.mark.django_db
def test_the_last_page_of_a_timeline_has_no_older_link(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from console.views.timeline_pages import PER_PAGE, timeline_page

    contact = Contact.objects.create(phone="+525599887722", name="Corta")
    _history(contact, PER_PAGE + 7, monkeypatch)

    first = timeline_page(contact)
    last = timeline_page(contact, before=first.older)

    assert len(first.events) == PER_PAGE
    assert len(last.events) == 7
    assert last.older == ""
    assert last.newer
    assert timeline_page(contact, after=last.newer).events == first.events
