"""The event stream's console pages: endpoints (added and edited by operators, a
URL inside refused saying why, the secret shown once, a test event, rotation) and
the deliveries with their attempts."""

import datetime as dt
import re
from collections.abc import Callable
from html import unescape
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from standardwebhooks.webhooks import Webhook

from base.audit import AuditEntry
from stream.emitting import emit
from stream.models import Attempt, Delivery, Endpoint, Event
from stream.secrets import endpoint_secrets
from tests.stream.conftest import Receiver, deliver

pytestmark = pytest.mark.django_db

ADD = "admin:stream_endpoint_add"


def form(url: str, **more: Any) -> dict[str, Any]:
    return {
        "url": url,
        "description": "CRM",
        "event_types": ["message.delivered", "contact.opted_out"],
        "active": "on",
        **more,
    }


def test_an_operator_adds_an_endpoint_and_sees_its_secret_once(
    client: Client, make_user: Callable[..., Any], receiver: Receiver
) -> None:
    client.force_login(make_user("Operator"))
    page = client.get(reverse(ADD)).content.decode()
    assert 'type="checkbox" name="event_types" value="message.delivered"' in page
    assert "Contact opted out" in page

    answer = client.post(reverse(ADD), form(receiver.url))

    assert answer.status_code == 200
    assert "no-store" in answer["Cache-Control"]
    endpoint = Endpoint.objects.get()
    [secret] = endpoint_secrets(endpoint)
    assert secret in answer.content.decode()
    assert endpoint.event_types == ["message.delivered", "contact.opted_out"]
    assert AuditEntry.objects.filter(note__contains="signing secret made").exists()
    change = client.get(reverse("admin:stream_endpoint_change", args=[endpoint.pk]))
    shown = change.content.decode()
    assert secret not in shown
    assert f"whsec_…{secret[-4:]}" in shown
    assert "Send a test event" in shown


def test_a_url_inside_is_refused_saying_which_address_and_why(
    admin_client: Client, settings: Any
) -> None:
    settings.MESSAGING_OUTBOUND_ALLOW = []

    for url, why in (
        ("http://127.0.0.1:8000/hook", "127.0.0.1 is loopback (this machine)"),
        ("http://10.1.2.3/hook", "10.1.2.3 is private (RFC 1918)"),
        ("http://169.254.169.254/latest", "a cloud metadata service's address"),
        ("http://localhost/hook", "localhost is localhost"),
        ("ftp://files.example.com/in", "not http or https"),
    ):
        page = unescape(admin_client.post(reverse(ADD), form(url)).content.decode())
        assert why in page, url
    page = admin_client.post(
        reverse(ADD), form("https://user:pw@hooks.example.com/in")
    ).content.decode()
    assert "carries a user name or password" in page
    assert not Endpoint.objects.exists()


def test_a_viewer_reads_but_changes_nothing(
    client: Client, make_user: Callable[..., Any], make_endpoint: Any
) -> None:
    endpoint = make_endpoint("https://crm.example.com/events")
    client.force_login(make_user("Viewer"))

    assert client.get(reverse("admin:stream_endpoint_changelist")).status_code == 200
    assert client.get(reverse(ADD)).status_code == 403
    change = reverse("admin:stream_endpoint_change", args=[endpoint.pk])
    assert "Send a test event" not in client.get(change).content.decode()
    for name in ("admin:stream_endpoint_rotate_secret", "admin:stream_endpoint_test"):
        assert client.post(reverse(name, args=[endpoint.pk])).status_code == 403
    assert not Delivery.objects.exists()


def test_the_test_event_is_delivered_and_its_attempts_shown(
    admin_client: Client, endpoint: Endpoint, receiver: Receiver
) -> None:
    url = reverse("admin:stream_endpoint_test", args=[endpoint.pk])
    answer = admin_client.post(url, follow=True)
    assert "A test event" in answer.content.decode()

    deliver(endpoint, dt.datetime.now(dt.UTC))

    [post] = receiver.posts
    assert post["type"] == "endpoint.test"
    delivery = Delivery.objects.get()
    page = admin_client.get(
        reverse("admin:stream_delivery_change", args=[delivery.pk])
    ).content.decode()
    assert "endpoint.test" in page
    assert "{&quot;ok&quot;: true}" in page  # the attempt's answer
    assert Attempt.objects.count() == 1


def test_the_lists_show_what_waits_and_filter_by_endpoint_status_and_type(
    admin_client: Client, make_endpoint: Any
) -> None:
    one = make_endpoint("https://a.example.com/in")
    make_endpoint("https://b.example.com/in", types=["run.finished"])
    for n in range(3):
        emit(type="message.delivered", data={"n": n}, contact=n)
    emit(type="run.finished", data={"run": 1})
    Delivery.objects.filter(pk=Delivery.objects.earliest("id").pk).update(
        status="failed", last_error="Given up after 72 hours"
    )

    endpoints = unescape(
        admin_client.get(reverse("admin:stream_endpoint_changelist")).content.decode()
    )
    # One's pending, and given up.
    assert f'endpoint__id__exact={one.pk}&status__exact=pending">3</a>' in endpoints
    assert f'endpoint__id__exact={one.pk}&status__exact=failed">1</a>' in endpoints
    deliveries = reverse("admin:stream_delivery_changelist")
    for query, rows in (
        ("", 5),
        (f"?endpoint__id__exact={one.pk}", 4),
        ("?status__exact=failed", 1),
        ("?event_type=run.finished", 2),
        (f"?q=evt_{Event.objects.earliest('id').pk}", 1),
    ):
        page = admin_client.get(deliveries + query)
        assert page.status_code == 200
        found = set(
            re.findall(r"/stream/delivery/(\d+)/change/", page.content.decode())
        )
        assert len(found) == rows, query


def test_rotating_the_secret_shows_the_new_one_and_both_sign_meanwhile(
    admin_client: Client, endpoint: Endpoint, receiver: Receiver
) -> None:
    [old] = endpoint_secrets(endpoint)

    page = admin_client.post(
        reverse("admin:stream_endpoint_rotate_secret", args=[endpoint.pk])
    ).content.decode()

    endpoint.refresh_from_db()
    new, previous = endpoint_secrets(endpoint)
    assert previous == old
    assert new in page
    assert old not in page
    emit(type="message.sent", data={"n": 0}, contact=1)
    deliver(endpoint, dt.datetime.now(dt.UTC))
    [headers] = receiver.headers
    # Signed with both: a receiver holding either verifies it.
    assert len(headers["Webhook-Signature"].split()) == 2
    Webhook(new).verify(receiver.last_body, headers)
