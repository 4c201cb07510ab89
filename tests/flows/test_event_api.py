"""/api/events stores every accepted event and says which flows it entered, and
why the others passed it over."""

import datetime as dt
import json
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from audiences.events import ContactEvent
from audiences.models import Contact
from flows.event_rules import FlowEventCondition
from flows.models import Journey
from flows.publishing import flow_publish
from tests.flows.test_triggers import api_key as api_key  # the fixture
from tests.flows.test_triggers import post_event

PHONE = "+525500998877"


@pytest.fixture
def contact(db: None) -> Contact:
    return Contact.objects.create(phone=PHONE, name="Carlos")


def iso(moment: dt.datetime) -> str:
    return moment.isoformat()


def test_the_third_cart_within_a_week_enters_and_the_answer_says_why_not_before(
    client: Client, api_key: str, contact: Contact, make_flow: Any
) -> None:
    third = make_flow(
        publish=False,
        name="Third cart",
        trigger="event",
        event_name="cart_abandoned",
        event_occurrence=3,
        event_within=7,
    )
    FlowEventCondition.objects.create(flow=third, property="total", op="gt", value="99")
    flow_publish(flow=third)
    every = make_flow(name="Every cart", trigger="event", event_name="cart_abandoned")
    now = timezone.now()

    answers = [
        post_event(
            client,
            api_key,
            phone=PHONE,
            event="cart_abandoned",
            id=f"cart-{n}",
            occurred_at=iso(now - dt.timedelta(days=3 - n)),
            properties={"total": 100 + n},
        ).json()
        for n in range(3)
    ]

    assert [a["stored"] for a in answers] == [True, True, True]
    assert [a["entered_flows"] for a in answers] == [
        [every.name],
        [every.name],
        [every.name, third.name],
    ]
    assert answers[0]["passed_over"] == {third.name: "occurrence 1 of 3 within 7 days"}
    assert answers[1]["passed_over"] == {third.name: "occurrence 2 of 3 within 7 days"}
    assert "passed_over" not in answers[2]
    assert answers[2]["entered"] == 2
    assert Journey.objects.filter(cohort__flow_version__flow=third).count() == 1
    stored = ContactEvent.objects.get(event_id="cart-0")
    assert stored.occurred_at == now - dt.timedelta(days=3)
    assert stored.properties == {"total": 100}


def test_an_event_no_flow_waits_for_is_stored(
    client: Client, api_key: str, contact: Contact
) -> None:
    answer = post_event(
        client, api_key, phone=PHONE, event="page_viewed", id="v-1", properties={}
    )
    again = post_event(client, api_key, phone=PHONE, event="page_viewed", id="v-1")

    assert answer.status_code == 200
    assert answer.json()["stored"] is True
    assert answer.json()["flows"] == []
    assert again.json()["stored"] is False
    assert ContactEvent.objects.filter(contact=contact, name="page_viewed").count() == 1


@pytest.mark.parametrize(
    ("extra", "field", "message"),
    [
        ({"occurred_at": "last tuesday"}, "occurred_at", "is not an ISO 8601 time"),
        ({"occurred_at": "2026-12-05T10:00:00"}, "occurred_at", "UTC offset"),
        ({"occurred_at": "FUTURE"}, "occurred_at", "is in the future"),
        (
            {"properties": {"note": "é" * 9000}},
            "properties",
            "18011 bytes as JSON; at most 16384 (16 KB)",
        ),
        ({"properties": [1, 2]}, "properties", "Must be a JSON object."),
        ({"event": "e" * 101}, "event", "At most 100 characters."),
    ],
)
def test_a_bad_time_or_oversized_properties_are_refused_with_a_400(
    client: Client,
    api_key: str,
    contact: Contact,
    extra: dict[str, Any],
    field: str,
    message: str,
) -> None:
    if extra.get("occurred_at") == "FUTURE":
        extra = {"occurred_at": iso(timezone.now() + dt.timedelta(minutes=10))}
    payload = {"phone": PHONE, "event": "cart_abandoned", "id": "c-1", **extra}

    response = post_event(client, api_key, **payload)

    assert response.status_code == 400
    assert response.json()["error"] == "The event was not accepted."
    assert message in response.json()["fields"][field]
    assert not ContactEvent.objects.exists()


def test_the_body_limit_counts_properties_as_compact_json(
    client: Client, api_key: str, contact: Contact
) -> None:
    # Just under 16 KB once written compactly, though longer as sent here.
    properties = {"note": "x" * (16 * 1024 - 20)}
    body = json.dumps(
        {"phone": PHONE, "event": "x", "id": "1", "properties": properties}, indent=4
    )

    response = client.post(
        "/api/events",
        data=body,
        content_type="application/json",
        headers={"Authorization": f"Bearer {api_key}"},
    )

    assert response.status_code == 200, response.content
    assert ContactEvent.objects.get().properties == properties
