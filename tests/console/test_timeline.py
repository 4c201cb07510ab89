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
    from console.views.timeline import contact_timeline
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

    with django_assert_max_num_queries(5):
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
