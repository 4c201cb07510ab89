"""Behavioural-event and audience triggers: contacts enter flows without a campaign."""

import datetime as dt
import json
from typing import Any

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client
from django.utils import timezone

from api.models import ApiToken
from audiences.models import Contact
from flows.engine import journeys_advance
from flows.models import Flow, FlowStep, Journey
from flows.publishing import flow_publish
from flows.triggers import audiences_enter_due
from messaging.models import Message
from messaging.sending import messages_send_range


@pytest.fixture
def api_key(db: None) -> str:
    user = User.objects.create_user("shop", is_staff=False)
    user.user_permissions.add(Permission.objects.get(codename="report_event"))
    token = ApiToken(name="shop backend", user=user)
    key = token.issue_key()
    token.save()
    return key


def event_flow(channel: Any, event: str = "cart_abandoned") -> Flow:
    flow = Flow.objects.create(name=f"On {event}", trigger="event", event_name=event)
    step = FlowStep.objects.create
    step(
        flow=flow, position=1, kind="send", channel=channel, body="Tu carrito {{cart}}"
    )
    step(flow=flow, position=2, kind="wait", wait=dt.timedelta(hours=1))
    step(flow=flow, position=3, kind="send", channel=channel, body="¿Sigues ahí?")
    step(flow=flow, position=4, kind="end")
    flow_publish(flow=flow)
    return flow


def post_event(client: Client, key: str | None, **payload: Any) -> Any:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return client.post(
        "/api/events",
        data=json.dumps(payload),
        content_type="application/json",
        headers=headers,
    )


@pytest.mark.django_db
def test_an_event_puts_the_contact_on_its_flow_once_per_event_id(
    client: Client, api_key: str, make_channel: Any
) -> None:
    flow = event_flow(make_channel())
    contact = Contact.objects.create(phone="+525500998877", name="Carlos")
    payload = {
        "phone": "5500998877",  # national form, read in the default region (MX)
        "event": "cart_abandoned",
        "id": "evt-1",
        "properties": {"cart": "A-17"},
    }
    first = post_event(client, api_key, **payload)
    again = post_event(client, api_key, **payload)

    assert first.status_code == 200, first.content
    assert first.json() == {
        "event": "cart_abandoned",
        "id": "evt-1",
        "contact": "+525500998877",
        "stored": True,
        "flows": [flow.name],
        "entered": 1,
        "entered_flows": [flow.name],
    }
    assert again.json()["entered"] == 0
    assert again.json()["stored"] is False
    journey = Journey.objects.get(contact=contact)
    assert journey.cohort.for_entries  # entered without a campaign run
    assert journey.context == {"cart": "A-17"}
    message = Message.objects.get()
    report = messages_send_range(
        batch_id=message.batch_id, first_id=message.pk, last_id=message.pk
    )
    assert report.sent == 1
    message.refresh_from_db()
    assert message.body == "Tu carrito A-17"

    # A new event id enters again; the wait then sends the second message.
    post_event(client, api_key, **{**payload, "id": "evt-2"})
    assert Journey.objects.filter(contact=contact).count() == 2
    journeys_advance(now=timezone.now() + dt.timedelta(hours=2))
    assert (
        Message.objects.filter(
            step=FlowStep.objects.get(flow=flow, position=3).pk
        ).count()
        == 2
    )


@pytest.mark.django_db
def test_bad_events_are_refused_with_the_reason(
    client: Client, api_key: str, make_channel: Any
) -> None:
    event_flow(make_channel())
    assert post_event(client, None, event="x").status_code == 401
    assert post_event(client, "fc_wrong", event="x").status_code == 401
    response = post_event(client, api_key, phone="12", event="", id="")
    assert response.status_code == 400
    fields = response.json()["fields"]
    assert set(fields) == {"phone", "event", "id"}
    unknown = post_event(client, api_key, phone="+525511112222", event="x", id="1")
    assert unknown.status_code == 404
    assert "No contact has the phone +525511112222" in unknown.json()["error"]
    assert not Journey.objects.exists()


@pytest.mark.django_db
def test_a_revoked_key_is_refused(client: Client, api_key: str) -> None:
    ApiToken.objects.update(revoked=True)
    response = post_event(client, api_key, phone="+525500998877", event="x", id="1")
    assert response.status_code == 401


@pytest.mark.django_db
def test_an_audience_flow_enters_its_group_once_per_period(
    make_channel: Any, make_group: Any
) -> None:
    group = make_group(["+525500998877", "+525511223344"])
    flow = Flow.objects.create(
        name="Hourly", trigger="audience", audience_group=group, audience_every="hourly"
    )
    FlowStep.objects.create(
        flow=flow, position=1, kind="send", channel=make_channel(), body="Hola"
    )
    FlowStep.objects.create(flow=flow, position=2, kind="end")
    flow_publish(flow=flow)
    now = timezone.now().replace(minute=10)

    assert audiences_enter_due(now=now) == 2
    assert audiences_enter_due(now=now + dt.timedelta(minutes=20)) == 0
    assert audiences_enter_due(now=now + dt.timedelta(hours=1)) == 2
    assert Message.objects.count() == 4
    assert set(Journey.objects.values_list("status", flat=True)) == {"ended"}


@pytest.mark.django_db
def test_a_key_whose_user_may_not_report_events_is_refused(client: Client) -> None:
    user = User.objects.create_user("looker")
    user.user_permissions.add(Permission.objects.get(codename="view_flow"))
    token = ApiToken(name="looker", user=user)
    key = token.issue_key()
    token.save()
    response = post_event(client, key, phone="+525500998877", event="x", id="1")
    assert response.status_code == 403
    assert "Can report behavioural events" in response.json()["error"]


@pytest.mark.django_db
def test_only_a_superuser_issues_keys_for_other_users(client: Client) -> None:
    from django.urls import reverse

    staff = User.objects.create_user("staff", password="pw", is_staff=True)
    staff.user_permissions.add(
        *Permission.objects.filter(codename__in=["add_apitoken", "view_apitoken"])
    )
    boss = User.objects.create_superuser("boss", password="pw")
    client.force_login(staff)
    url = reverse("admin:api_apitoken_add")
    refused = client.post(url, {"name": "sneaky", "user": boss.pk})
    assert refused.status_code == 200  # the form answers with the error
    assert not ApiToken.objects.exists()
    own = client.post(url, {"name": "mine", "user": staff.pk})
    assert own.status_code == 302
    assert ApiToken.objects.get().user == staff
