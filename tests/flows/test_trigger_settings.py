"""A flow keeps only the settings of its trigger: a Manual flow none."""

from typing import Any

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client
from django.urls import reverse

from flows.models import Flow
from tests.flows.test_admin import flow_form, seed_flow_steps

pytestmark = pytest.mark.django_db


def test_a_manual_flow_keeps_no_event_or_audience_settings(
    admin_client: Client, make_channel: Any, make_group: Any
) -> None:
    group = make_group()
    data = flow_form(
        "Manual",
        seed_flow_steps(make_channel().pk),
        event_name="cart_abandoned",
        event_occurrence="3",
        event_within="0",  # not valid; hidden for a Manual flow, so not refused
        audience_group=group.pk,
        audience_every="daily",
    )

    response = admin_client.post(reverse("admin:flows_flow_add"), data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    flow = Flow.objects.get(name="Manual")
    assert (flow.event_name, flow.event_occurrence, flow.event_within) == (
        "",
        None,
        None,
    )
    assert (flow.audience_group, flow.audience_every) == (None, "")


def test_an_event_flow_keeps_its_event_and_drops_the_audience(
    admin_client: Client, make_channel: Any, make_group: Any
) -> None:
    data = flow_form(
        "Event",
        seed_flow_steps(make_channel().pk),
        trigger="event",
        event_name="cart_abandoned",
        event_occurrence="3",
        event_within="7",
        audience_group=make_group().pk,
        audience_every="daily",
    )

    response = admin_client.post(reverse("admin:flows_flow_add"), data)

    assert response.status_code == 302
    flow = Flow.objects.get(name="Event")
    assert (flow.event_name, flow.event_occurrence, flow.event_within) == (
        "cart_abandoned",
        3,
        7,
    )
    assert (flow.audience_group, flow.audience_every) == (None, "")


def test_a_viewer_sees_no_trigger_settings_on_a_manual_flow(
    client: Client, make_flow: Any
) -> None:
    viewer = User.objects.create_user("victor", password="x", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_flow"))
    client.force_login(viewer)
    manual, event = make_flow(), make_flow(trigger="event", event_name="signup")

    manual_page = client.get(reverse("admin:flows_flow_change", args=[manual.pk]))
    event_page = client.get(reverse("admin:flows_flow_change", args=[event.pk]))

    assert "Behavioural event" not in manual_page.content.decode()
    assert "Audience</h2>" not in manual_page.content.decode()
    assert "Behavioural event</h2>" in event_page.content.decode()
    assert "Audience</h2>" not in event_page.content.decode()
