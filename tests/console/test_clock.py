"""Each operator's own clock (base.clock): the zone the console shows them times in."""

import datetime as dt
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from base.clock import operator_zone, operator_zone_set
from base.models import OperatorSettings

pytestmark = pytest.mark.django_db


def held_message(make_campaign: Any, not_before: dt.datetime) -> Any:
    from campaigns.models import Campaign
    from campaigns.runs import campaign_tick
    from messaging.models import Message

    campaign = make_campaign(started=True)
    Campaign.objects.filter(pk=campaign.pk).update(status="in_progress")
    assert campaign_tick(campaign_id=campaign.pk) is not None
    held = Message.objects.first()
    assert held is not None
    Message.objects.filter(pk=held.pk).update(status="deferred", not_before=not_before)
    return held


def test_an_operator_who_chose_no_zone_sees_the_installations(
    admin_user: User, settings: Any
) -> None:
    settings.TIME_ZONE = "Europe/Madrid"

    assert operator_zone(admin_user) == "Europe/Madrid"


def test_my_settings_stores_an_offset_as_the_zone_it_means_for_me_alone(
    admin_client: Client, admin_user: User, django_user_model: Any
) -> None:
    other = django_user_model.objects.create_user("otto", is_staff=True)

    answer = admin_client.post(reverse("admin:my_settings"), {"time_zone": "GMT-5"})

    assert answer.status_code == 302
    assert operator_zone(admin_user) == "Etc/GMT+5"
    assert not OperatorSettings.objects.filter(user=other).exists()
    page = admin_client.get(reverse("admin:my_settings")).content.decode()
    assert 'value="GMT-5"' in page
    assert "My settings (GMT-5)" in page


def test_my_settings_refuses_what_is_no_zone_saying_so(
    admin_client: Client, admin_user: User
) -> None:
    page = admin_client.post(reverse("admin:my_settings"), {"time_zone": "Bogotá"})

    assert page.status_code == 200
    assert "is not a time zone" in page.content.decode()
    assert not OperatorSettings.objects.filter(user=admin_user).exists()


def test_the_header_leads_to_my_settings_naming_my_zone(
    admin_client: Client, admin_user: User
) -> None:
    operator_zone_set(user=admin_user, time_zone="America/Bogota")

    page = admin_client.get(reverse("admin:index")).content.decode()

    assert reverse("admin:my_settings") in page
    assert "My settings (America/Bogota (GMT-5))" in page


def test_a_held_message_goes_out_at_a_time_shown_in_the_operators_zone(
    admin_client: Client, admin_user: User, make_campaign: Any
) -> None:
    # 20:00 in Bogotá is 01:00 UTC the next day.
    opening = dt.datetime(2031, 3, 3, 1, 0, tzinfo=dt.UTC)
    held_message(make_campaign, opening)
    operator_zone_set(user=admin_user, time_zone="America/Bogota")

    text = admin_client.get(
        reverse("admin:messaging_message_changelist")
    ).content.decode()

    assert "from 2031-03-02 20:00 -05" in text
    assert "01:00" not in text


def test_a_capped_messages_hold_is_told_in_the_operators_zone(
    admin_client: Client, admin_user: User, make_campaign: Any
) -> None:
    from messaging.capping import capped_text
    from messaging.models import Message

    opening = dt.datetime(2031, 3, 3, 1, 0, tzinfo=dt.UTC)
    held = held_message(make_campaign, opening)
    Message.objects.filter(pk=held.pk).update(error=capped_text(opening) + ".")
    operator_zone_set(user=admin_user, time_zone="America/Bogota")

    text = admin_client.get(
        reverse("admin:messaging_message_changelist")
    ).content.decode()

    assert "capped until 2031-03-02 20:00 -05." in text
    assert "UTC" not in text.split("result_list", 1)[1]


def test_the_audit_trail_names_the_zone_of_its_times(
    admin_client: Client, admin_user: User
) -> None:
    from base.audit import audit_record
    from base.models import AuditEntry

    entry = audit_record(action="change", target=admin_user, note="tested")
    AuditEntry.objects.filter(pk=entry.pk).update(
        at=dt.datetime(2031, 3, 3, 1, 0, tzinfo=dt.UTC)
    )
    operator_zone_set(user=admin_user, time_zone="America/Bogota")

    text = admin_client.get(
        reverse("admin:console_auditentry_changelist")
    ).content.decode()

    assert "2031-03-02 20:00:00 -05" in text
