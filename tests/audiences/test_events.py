"""Behavioural events as data: stored once per id, bounded, pruned after the
retention, deleted with their contact, listed read-only in the admin."""

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from audiences.erasure import contacts_delete, contacts_footprint
from audiences.events import (
    MAX_PROPERTIES_BYTES,
    ContactEvent,
    EventRefused,
    event_store,
    event_time_parse,
    events_prune,
)
from audiences.models import Contact
from audiences.tasks import prune_events
from config.system_ticks import SYSTEM_TICKS

NOW = dt.datetime(2026, 12, 5, 18, 0, tzinfo=dt.UTC)


@pytest.fixture
def contact(db: None) -> Contact:
    return Contact.objects.create(phone="+525500998877", name="Carlos")


def store(contact: Contact, event_id: str, **fields: Any) -> tuple[ContactEvent, bool]:
    fields.setdefault("name", "cart_abandoned")
    fields.setdefault("now", NOW)
    return event_store(contact_id=contact.pk, event_id=event_id, **fields)


def test_an_event_is_stored_once_per_id_as_first_given(contact: Contact) -> None:
    event, created = store(
        contact, "evt-1", properties={"cart": "A-17"}, occurred_at=NOW
    )
    again, created_again = store(
        contact, "evt-1", properties={"cart": "B-2"}, now=NOW + dt.timedelta(hours=1)
    )

    assert created
    assert not created_again
    assert again.pk == event.pk
    assert again.properties == {"cart": "A-17"}
    assert again.received_at == NOW
    # The same id under another name, or for another contact, is another event.
    assert store(contact, "evt-1", name="order_paid")[1]
    other = Contact.objects.create(phone="+525511223344")
    assert store(other, "evt-1")[1]
    assert ContactEvent.objects.count() == 3


def test_an_event_without_a_time_happened_when_it_arrived(contact: Contact) -> None:
    event, _ = store(contact, "evt-1")

    assert event.occurred_at == NOW
    assert event.received_at == NOW


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("yesterday", "'yesterday' is not an ISO 8601 time"),
        ("2026-12-05T17:00:00", "Give the time's UTC offset"),
        ("2026-12-05T18:06:00Z", "is in the future (more than 5 minutes"),
        ("2026-08-01T00:00:00Z", "older than the 90 days events are kept"),
        (1764950000, "Give the time as ISO 8601 text"),
    ],
)
def test_an_event_time_is_refused_unless_iso_with_offset_and_plausible(
    text: Any, message: str, settings: Any
) -> None:
    settings.EVENTS_RETENTION_DAYS = 90
    with pytest.raises(EventRefused) as refused:
        event_time_parse(text, now=NOW)

    assert refused.value.field == "occurred_at"
    assert message in refused.value.message


def test_an_event_time_with_an_offset_or_a_little_ahead_is_taken() -> None:
    assert event_time_parse("2026-12-05T12:30:00-05:00", now=NOW) == NOW.replace(
        minute=30, hour=17
    )
    assert event_time_parse("2026-12-05T18:04:00Z", now=NOW) > NOW
    assert event_time_parse("", now=NOW) == NOW
    assert event_time_parse(None, now=NOW) == NOW


def test_properties_past_16_kb_are_refused(contact: Contact) -> None:
    big = {"note": "x" * MAX_PROPERTIES_BYTES}

    with pytest.raises(EventRefused) as refused:
        store(contact, "evt-1", properties=big)

    assert refused.value.field == "properties"
    assert "at most 16384 (16 KB)" in refused.value.message
    with pytest.raises(EventRefused, match="JSON object"):
        store(contact, "evt-1", properties=["a"])
    assert not ContactEvent.objects.exists()


def test_events_past_the_retention_are_pruned(contact: Contact, settings: Any) -> None:
    settings.EVENTS_RETENTION_DAYS = 30
    old = [
        store(contact, f"old-{n}", occurred_at=NOW - dt.timedelta(days=31 + n))[0]
        for n in range(5)
    ]
    kept = store(contact, "kept", occurred_at=NOW - dt.timedelta(days=29))[0]

    assert events_prune(now=NOW, batch=2) == len(old)

    assert list(ContactEvent.objects.all()) == [kept]
    settings.EVENTS_RETENTION_DAYS = 0  # kept for ever
    assert events_prune(now=NOW + dt.timedelta(days=400)) == 0
    assert ContactEvent.objects.count() == 1


def test_the_prune_task_runs_hourly_from_beat(contact: Contact) -> None:
    store(contact, "ancient", occurred_at=dt.datetime(2000, 1, 1, tzinfo=dt.UTC))

    assert prune_events() == 1
    tick = SYSTEM_TICKS["system: prune old events"]
    assert tick["task"] == prune_events.name == "audiences.tasks.prune_events"
    assert tick["schedule"] == dt.timedelta(hours=1)


def test_deleting_a_contact_deletes_its_events(contact: Contact) -> None:
    store(contact, "evt-1")
    store(contact, "evt-2")
    other = Contact.objects.create(phone="+525511223344")
    store(other, "evt-1")

    assert contacts_footprint(Contact.objects.filter(pk=contact.pk)).rows["events"] == 2
    assert contacts_delete(contacts=Contact.objects.filter(pk=contact.pk)) == 1

    assert list(ContactEvent.objects.values_list("contact_id", flat=True)) == [other.pk]


def test_the_events_list_is_read_only_found_by_phone_and_filtered_by_name(
    client: Client, make_user: Any, contact: Contact
) -> None:
    store(contact, "evt-1", properties={"cart": "A-17"})
    store(contact, "evt-2", name="order_paid")
    other = Contact.objects.create(phone="+525511223344")
    store(other, "evt-3")
    client.force_login(make_user("Viewer"))
    url = reverse("admin:audiences_contactevent_changelist")

    by_phone = client.get(url, {"q": "55 0099 8877"}).content.decode()
    by_name = client.get(url, {"name": "order_paid"}).content.decode()

    assert "evt-1" in by_phone
    assert "evt-2" in by_phone
    assert "evt-3" not in by_phone
    assert "evt-2" in by_name
    assert "evt-1" not in by_name
    event = ContactEvent.objects.get(event_id="evt-1")
    page = client.get(reverse("admin:audiences_contactevent_change", args=[event.pk]))
    assert page.status_code == 200
    assert "A-17" in page.content.decode()
    assert 'name="_save"' not in page.content.decode()
    delete = reverse("admin:audiences_contactevent_delete", args=[event.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert ContactEvent.objects.filter(pk=event.pk).exists()


def test_a_contacts_page_shows_its_latest_events(
    admin_client: Client, contact: Contact
) -> None:
    store(contact, "evt-1", name="cart_abandoned", properties={"cart": "A-17"})

    page = admin_client.get(
        reverse("admin:audiences_contact_change", args=[contact.pk])
    ).content.decode()

    assert "field-events" in page
    assert "cart_abandoned" in page
    assert "A-17" in page
