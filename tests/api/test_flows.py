"""/api/v1/flows: the published flows, with their version and steps."""

from typing import Any

import pytest

from .conftest import KeyClient

pytestmark = pytest.mark.django_db


def test_only_published_flows_are_listed_with_their_steps(
    viewer: KeyClient, make_flow: Any, make_channel: Any
) -> None:
    channel = make_channel()
    welcome = make_flow(name="Welcome", channel=channel)
    make_flow(name="Draft", publish=False)
    cart = make_flow(name="Cart", trigger="event", event_name="cart_abandoned")

    listed = viewer.send("get", "/api/v1/flows").json()["results"]
    events = viewer.send("get", "/api/v1/flows?trigger=event").json()["results"]
    named = viewer.send("get", "/api/v1/flows?name=welc").json()["results"]
    one = viewer.send("get", f"/api/v1/flows/{welcome.pk}").json()

    assert [flow["name"] for flow in listed] == ["Cart", "Welcome"]
    assert [flow["id"] for flow in events] == [cart.pk]
    assert [flow["id"] for flow in named] == [welcome.pk]
    assert one["version"] == 1
    assert one["steps"] == [
        {"position": 1, "kind": "send", "channel": channel.pk},
        {"position": 2, "kind": "end", "channel": None},
    ]
    draft = viewer.send("get", f"/api/v1/flows/{welcome.pk + 1}")
    assert draft.status_code == 404
    assert draft.json() == {"error": f"No published flow has the id {welcome.pk + 1}."}
