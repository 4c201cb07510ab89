"""/api/v1/events does what /api/events does, in the API's shape."""

from typing import Any

import pytest
from django.contrib.auth.models import Permission

from audiences.events import ContactEvent
from audiences.models import Contact
from flows.models import Journey
from tests.flows.test_triggers import event_flow

from .conftest import KeyClient

pytestmark = pytest.mark.django_db
PHONE = "+525500998877"


@pytest.fixture
def reporter(make_key: Any) -> KeyClient:
    client: KeyClient = make_key("shop", None)
    from django.contrib.auth.models import User

    User.objects.get(username="shop").user_permissions.add(
        Permission.objects.get(codename="report_event")
    )
    return client


def test_an_event_enters_its_flow_once_per_id_as_the_old_endpoint_does(
    reporter: KeyClient, make_channel: Any
) -> None:
    flow = event_flow(make_channel())
    Contact.objects.create(phone=PHONE, name="Carlos")
    payload = {
        "phone": "5500998877",
        "event": "cart_abandoned",
        "id": "evt-1",
        "properties": {"cart": "A-17"},
    }

    first = reporter.send("post", "/api/v1/events", payload)
    again = reporter.send("post", "/api/v1/events", payload)
    old = reporter.send("post", "/api/events", payload)

    assert first.status_code == 200, first.json()
    assert first.json() == {
        "event": "cart_abandoned",
        "id": "evt-1",
        "contact": PHONE,
        "stored": True,
        "flows": [flow.name],
        "entered": 1,
        "entered_flows": [flow.name],
    }
    assert again.json()["stored"] is False
    assert again.json() == old.json()
    assert Journey.objects.count() == 1
    assert ContactEvent.objects.count() == 1


def test_a_refused_event_is_a_400_naming_each_field_and_an_unknown_phone_a_404(
    reporter: KeyClient,
) -> None:
    bad = reporter.send(
        "post",
        "/api/v1/events",
        {"phone": "12", "event": "", "id": "x", "occurred_at": "last tuesday"},
    )
    unknown = reporter.send(
        "post", "/api/v1/events", {"phone": PHONE, "event": "e", "id": "1"}
    )
    listed = reporter.send("post", "/api/v1/events", [1, 2])

    assert bad.status_code == 400
    assert set(bad.json()["fields"]) == {"phone", "event", "occurred_at"}
    assert bad.json()["fields"]["event"] == "Give the event name."
    assert unknown.status_code == 404
    assert unknown.json() == {
        "error": f"No contact has the phone {PHONE}; import it first."
    }
    assert listed.status_code == 400
    assert not ContactEvent.objects.exists()


def test_a_key_without_the_event_permission_is_refused(viewer: KeyClient) -> None:
    response = viewer.send(
        "post", "/api/v1/events", {"phone": PHONE, "event": "e", "id": "1"}
    )
    assert response.status_code == 403
    assert "Can report behavioural events" in response.json()["error"]
