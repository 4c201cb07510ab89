"""Each contact's own clock (issue 18): a bulk message at 09:00 in each contact's
zone, and a campaign's active hours read in each contact's zone, with a driven
clock."""

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from audiences.models import Contact
from campaigns.bulk import EARLIEST_OFFSET
from campaigns.models import Campaign
from campaigns.runs import campaign_tick
from messaging.models import Message
from messaging.sending import messages_send_range
from messaging.sweep import messages_sweep
from tests.conftest import batch_of

MEXICO = ZoneInfo("America/Mexico_City")
MADRID = ZoneInfo("Europe/Madrid")

MEXICO_CITY_PHONE = "+525512345678"  # the phone's zone: Mexico City
MADRID_PHONE = "+34912345678"  # a Madrid landline
SPANISH_MOBILE = "+34612345678"  # Canaries or Madrid: no zone of its own
MADRID_BY_COLUMN = "+34612345679"  # a Spanish mobile with TIMEZONE Europe/Madrid
MEXICAN_IN_MADRID = "+525587654321"  # a Mexican number with TIMEZONE Europe/Madrid


def at(day: dt.date, zone: ZoneInfo, hour: int = 9) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=zone).astimezone(dt.UTC)


def send(run: Any, now: dt.datetime) -> Any:
    ids = sorted(Message.objects.values_list("pk", flat=True))
    return messages_send_range(
        batch_id=batch_of(run), first_id=ids[0], last_id=ids[-1], now=now
    )


def sent_phones(provider: Any) -> set[str]:
    return {phone for _, phone, _ in provider.sent}


def not_before_by_phone() -> dict[str, dt.datetime | None]:
    return dict(Message.objects.values_list("contact__phone", "not_before"))


@pytest.fixture
def mexico_installation(settings: Any) -> None:
    settings.TIME_ZONE = "America/Mexico_City"


@pytest.mark.django_db
def test_a_bulk_message_at_0900_reaches_each_contact_at_its_own_0900(
    mexico_installation: None,
    admin_client: Client,
    provider: Any,
    make_group: Any,
    make_channel: Any,
) -> None:
    phones = [MEXICO_CITY_PHONE, MADRID_PHONE, SPANISH_MOBILE, MADRID_BY_COLUMN]
    group, channel = make_group(phones), make_channel()
    Contact.objects.filter(phone=MADRID_BY_COLUMN).update(timezone="Europe/Madrid")
    day = timezone.localdate() + dt.timedelta(days=3)
    form = {
        "name": "Buenos días",
        "group": group.pk,
        "channel": channel.pk,
        "body": "Buenos días {{NOMBRE}}",
        "send_at_0": day.isoformat(),
        "send_at_1": "09:00",
        "in_contact_zone": "on",
        "match": "all",
        "conditions-TOTAL_FORMS": "0",
        "conditions-INITIAL_FORMS": "0",
    }
    page = admin_client.post(
        reverse("admin:campaigns_bulk"), {**form, "_preview": "1"}
    ).content.decode()
    assert (
        f"Sends {day.isoformat()} 09:00 in each contact&#x27;s zone; contacts "
        "without one: 09:00 America/Mexico_City." in page
    )

    admin_client.post(reverse("admin:campaigns_bulk"), {**form, "_send": "1"})
    campaign = Campaign.objects.get()
    # The earliest zone (UTC+14) reads 09:00 first: beat fires then.
    nine_utc = dt.datetime.combine(day, dt.time(9), tzinfo=dt.UTC)
    assert campaign.start_at == nine_utc - EARLIEST_OFFSET
    assert campaign.periodic_task is not None
    assert campaign.periodic_task.clocked.clocked_time == campaign.start_at
    assert campaign.send_at_local == at(day, MEXICO)

    run = campaign_tick(
        campaign_id=campaign.pk, now=campaign.start_at + dt.timedelta(seconds=1)
    )
    early = send(run, campaign.start_at + dt.timedelta(seconds=2))
    assert (early.sent, early.deferred) == (0, 4)
    assert not_before_by_phone() == {
        MEXICO_CITY_PHONE: at(day, MEXICO),
        MADRID_PHONE: at(day, MADRID),
        SPANISH_MOBILE: at(day, MEXICO),  # no zone: the bulk message's
        MADRID_BY_COLUMN: at(day, MADRID),
    }
    assert messages_sweep(now=at(day, MADRID) - dt.timedelta(minutes=1)) == 0

    madrid = send(run, at(day, MADRID))
    assert madrid.sent == 2
    assert sent_phones(provider) == {MADRID_PHONE, MADRID_BY_COLUMN}

    assert messages_sweep(now=at(day, MEXICO) - dt.timedelta(minutes=1)) == 0
    mexico = send(run, at(day, MEXICO))
    assert mexico.sent == 2
    assert sent_phones(provider) == set(phones)
    assert set(Message.objects.values_list("status", flat=True)) == {"sent"}


@pytest.mark.django_db
def test_a_bulk_message_in_each_contacts_zone_needs_a_send_time(
    admin_client: Client, make_group: Any, make_channel: Any
) -> None:
    page = admin_client.post(
        reverse("admin:campaigns_bulk"),
        {
            "name": "Buenos días",
            "group": make_group([MEXICO_CITY_PHONE]).pk,
            "channel": make_channel().pk,
            "body": "Hola",
            "send_at_0": "",
            "send_at_1": "",
            "in_contact_zone": "on",
            "match": "all",
            "conditions-TOTAL_FORMS": "0",
            "conditions-INITIAL_FORMS": "0",
            "_send": "1",
        },
    ).content.decode()
    assert "Give a send time to send it at that time in each contact" in page
    assert not Campaign.objects.exists()


def run_with_hours_in_contact_zone(
    make_campaign: Any, make_flow: Any, make_group: Any, start: dt.datetime
) -> Any:
    campaign = make_campaign(
        started=True,
        flow=make_flow(),
        group=make_group([MEXICO_CITY_PHONE, MADRID_PHONE, MEXICAN_IN_MADRID]),
        start_at=start,
        end_at=start + dt.timedelta(days=7),
    )
    Contact.objects.filter(phone=MEXICAN_IN_MADRID).update(timezone="Europe/Madrid")
    Campaign.objects.filter(pk=campaign.pk).update(
        active_from=dt.time(9),
        active_until=dt.time(18),
        timezone="America/Mexico_City",
        hours_in_contact_zone=True,
    )
    run = campaign_tick(campaign_id=campaign.pk, now=start + dt.timedelta(seconds=1))
    assert run is not None
    assert run.cohort is not None
    assert run.cohort.batch.hours_in_contact_zone
    return run


@pytest.mark.django_db
def test_active_hours_in_each_contacts_zone_hold_madrid_and_send_mexico_city(
    provider: Any, make_campaign: Any, make_flow: Any, make_group: Any
) -> None:
    """09:00–18:00 in each contact's zone, on the eve of Europe's change to summer
    time: at 19:00 in Madrid (12:00 in Mexico City) Mexico City is sent, Madrid
    waits for 09:00 the next morning, an hour earlier in UTC than the day before."""
    evening = dt.datetime(2026, 3, 28, 19, tzinfo=MADRID).astimezone(dt.UTC)
    assert evening.astimezone(MEXICO).hour == 12
    run = run_with_hours_in_contact_zone(make_campaign, make_flow, make_group, evening)

    report = send(run, evening + dt.timedelta(seconds=2))

    assert (report.sent, report.deferred) == (1, 2)
    assert sent_phones(provider) == {MEXICO_CITY_PHONE}
    morning = dt.datetime(2026, 3, 29, 7, tzinfo=dt.UTC)  # 09:00 CEST
    assert at(dt.date(2026, 3, 29), MADRID) == morning
    waiting = dict(
        Message.objects.filter(status="deferred").values_list(
            "contact__phone", "not_before"
        )
    )
    assert waiting == {MADRID_PHONE: morning, MEXICAN_IN_MADRID: morning}

    # At 09:00 in Madrid both go: the one with a Mexican number too, its claim
    # reading its TIMEZONE (else it would wait for 09:00 in Mexico City).
    assert send(run, morning).sent == 2
    assert sent_phones(provider) == {
        MEXICO_CITY_PHONE,
        MADRID_PHONE,
        MEXICAN_IN_MADRID,
    }


@pytest.mark.django_db
def test_hours_read_in_each_contacts_zone_reach_the_messages_still_to_send(
    make_campaign: Any,
) -> None:
    from campaigns.lifecycle import campaign_suspend, campaign_update
    from messaging.models import Batch

    campaign = make_campaign(started=True)
    run = campaign_tick(campaign_id=campaign.pk)
    assert run is not None
    campaign_suspend(campaign=campaign)
    new_start = timezone.now() + dt.timedelta(days=1)

    campaign_update(
        campaign=campaign,
        start_at=new_start,
        end_at=new_start + dt.timedelta(days=2),
        active_from=dt.time(9),
        active_until=dt.time(18),
        timezone="America/Mexico_City",
        hours_in_contact_zone=True,
    )

    batch = Batch.objects.get(cohort__run=run)
    assert batch.hours_in_contact_zone
    assert str(batch.window) == (
        "09:00–18:00 in each contact's zone (else America/Mexico_City)"
    )


@pytest.mark.django_db
def test_the_campaign_form_offers_hours_in_each_contacts_zone(
    admin_client: Client,
) -> None:
    page = admin_client.get(reverse("admin:campaigns_campaign_add")).content.decode()
    assert "Read active hours in each contact&#x27;s time zone" in page
    assert "+52 55: Mexico City" in page


@pytest.mark.django_db
def test_a_bulk_message_in_each_contacts_zone_keeps_the_time_of_day_typed(
    mexico_installation: None,
    admin_client: Client,
    admin_user: Any,
    make_group: Any,
    make_channel: Any,
) -> None:
    """An operator on another clock (their My settings) types 09:00: each contact
    gets it at 09:00, not at the installation's reading of 09:00 in Tokyo."""
    from base.clock import operator_zone_set

    operator_zone_set(user=admin_user, time_zone="Asia/Tokyo")
    group, channel = make_group([MEXICO_CITY_PHONE]), make_channel()
    day = timezone.localdate() + dt.timedelta(days=3)
    admin_client.post(
        reverse("admin:campaigns_bulk"),
        {
            "name": "Buenos días",
            "group": group.pk,
            "channel": channel.pk,
            "body": "Buenos días {{NOMBRE}}",
            "send_at_0": day.isoformat(),
            "send_at_1": "09:00",
            "in_contact_zone": "on",
            "match": "all",
            "conditions-TOTAL_FORMS": "0",
            "conditions-INITIAL_FORMS": "0",
            "_send": "1",
        },
    )

    campaign = Campaign.objects.get()
    assert campaign.send_at_local == at(day, MEXICO)
