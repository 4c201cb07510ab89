"""/api/v1/sends: one message, or one flow, for one contact now; each request once
per Idempotency-Key, whatever the retries."""

import datetime as dt
import threading
import time
from typing import Any

import pytest
from django.db import connections
from django.test import override_settings
from django.utils import timezone

from api.idempotency import idempotent_requests_forget
from api.models import IdempotentRequest
from audiences.models import Contact
from flows.models import Flow, Journey
from messaging.models import Message
from messaging.sending import messages_send_range
from tests.conftest import wait_for

from .conftest import KeyClient

PHONE = "+525500998877"


@pytest.fixture
def contact(db: None) -> Contact:
    return Contact.objects.create(phone=PHONE, name="Carlos", data={"NOMBRE": "Carlos"})


def send(client: KeyClient, body: Any, key: str | None = "order-17") -> Any:
    extra = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    return client.send("post", "/api/v1/sends", body, **extra)


def send_queued(message_id: int) -> None:
    """What the send task queued at commit does."""
    batch_id = Message.objects.get(pk=message_id).batch_id
    messages_send_range(batch_id=batch_id, first_id=message_id, last_id=message_id)


@pytest.mark.django_db(transaction=True)
def test_a_message_goes_out_through_the_send_path_once_the_request_commits(
    make_key: Any,
    contact: Contact,
    make_channel: Any,
    provider: Any,
    celery_worker: Any,
) -> None:
    operator, channel = make_key("shop"), make_channel()

    response = send(
        operator,
        {"phone": PHONE, "channel": channel.pk, "body": "Hola {{NOMBRE}}, tu pedido"},
    )

    assert response.status_code == 201, response.json()
    message = response.json()["message"]
    assert message["contact"] == {"id": contact.pk, "phone": PHONE}
    assert message["status"] == "queued"
    assert message["body"] == "Hola Carlos, tu pedido"
    assert wait_for(lambda: bool(provider.sent))
    assert provider.sent == [(message["id"], PHONE, "Hola Carlos, tu pedido")]
    sent = operator.send("get", f"/api/v1/messages/{message['id']}").json()
    assert (sent["status"], sent["provider_id"]) == ("sent", f"rec-{message['id']}")
    assert sent["sent_for"].startswith("transactional message via API key shop key")


@pytest.mark.django_db
def test_the_same_key_twice_sends_once_and_answers_the_same(
    operator: KeyClient, contact: Contact, make_channel: Any, provider: Any
) -> None:
    body = {"phone": PHONE, "channel": make_channel().pk, "body": "Tu código: 4411"}

    first = send(operator, body)
    # The same JSON laid out otherwise is the same request.
    again = send(operator, dict(reversed(list(body.items()))))

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert first["Idempotent-Replayed"] == "false"
    assert Message.objects.count() == 1
    send_queued(first.json()["message"]["id"])
    assert [text for _, _, text in provider.sent] == ["Tu código: 4411"]


@pytest.mark.django_db(transaction=True)
def test_two_requests_with_one_key_at_once_send_once(
    make_key: Any,
    contact: Contact,
    make_channel: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from api.v1 import sends

    operator = make_key("shop")
    body = {"phone": PHONE, "channel": make_channel().pk, "body": "Tu código: 4411"}
    inside = threading.Event()
    real = sends.message_send_now

    def slow(**kwargs: Any) -> Message:
        message = real(**kwargs)
        inside.set()
        time.sleep(0.5)  # the second request comes while this one holds the key
        return message

    monkeypatch.setattr(sends, "message_send_now", slow)
    answers: dict[str, Any] = {}

    def post(name: str) -> None:
        try:
            answers[name] = send(KeyClient(operator.key), body)
        finally:
            connections.close_all()

    first = threading.Thread(target=post, args=("first",))
    first.start()
    assert inside.wait(10)
    second = threading.Thread(target=post, args=("second",))
    second.start()
    first.join(10)
    second.join(10)

    assert answers["first"].status_code == 201, answers["first"].json()
    assert answers["second"].status_code == 201, answers["second"].json()
    assert answers["second"]["Idempotent-Replayed"] == "true"
    assert answers["second"].json() == answers["first"].json()
    assert Message.objects.count() == 1


@pytest.mark.django_db
def test_the_same_key_with_another_request_is_a_409_and_sends_nothing(
    operator: KeyClient, contact: Contact, make_channel: Any
) -> None:
    channel = make_channel()
    send(operator, {"phone": PHONE, "channel": channel.pk, "body": "Uno"})

    other = send(operator, {"phone": PHONE, "channel": channel.pk, "body": "Dos"})

    assert other.status_code == 409
    assert other.json()["error"].startswith(
        "This Idempotency-Key was used for a different request"
    )
    assert Message.objects.count() == 1


@pytest.mark.django_db
def test_keys_are_kept_per_user_and_forgotten_after_their_hours(
    operator: KeyClient,
    make_key: Any,
    contact: Contact,
    make_channel: Any,
) -> None:
    body = {"phone": PHONE, "channel": make_channel().pk, "body": "Hola"}
    send(operator, body)
    assert send(make_key("other"), body).status_code == 201  # another user's key
    assert Message.objects.count() == 2

    later = timezone.now() + dt.timedelta(hours=25)
    with override_settings(API_IDEMPOTENCY_HOURS=24):
        assert idempotent_requests_forget(now=later) == 2
    assert not IdempotentRequest.objects.exists()


@pytest.mark.django_db
def test_a_missing_or_overlong_key_is_a_400(
    operator: KeyClient, contact: Contact, make_channel: Any
) -> None:
    body = {"phone": PHONE, "channel": make_channel().pk, "body": "Hola"}

    missing = send(operator, body, key=None)
    long = send(operator, body, key="k" * 256)

    assert missing.status_code == 400
    assert (
        "Send an Idempotency-Key header" in missing.json()["fields"]["Idempotency-Key"]
    )
    assert long.json()["fields"] == {
        "Idempotency-Key": "At most 255 characters; this one has 256."
    }
    assert not Message.objects.exists()


@pytest.mark.django_db
def test_refusals_send_nothing_and_keep_no_key(
    operator: KeyClient, contact: Contact, make_channel: Any
) -> None:
    disabled = make_channel(enabled=False)
    channel = make_channel()

    off = send(operator, {"phone": PHONE, "channel": disabled.pk, "body": "Hola"})
    unknown = send(
        operator, {"phone": "+525511111111", "channel": channel.pk, "body": "x"}
    )
    bad = send(
        operator,
        {"phone": PHONE, "channel": 999999, "body": "", "media_url": "ftp://x"},
    )
    both = send(operator, {"phone": PHONE, "channel": channel.pk, "flow": 1})
    Contact.objects.filter(pk=contact.pk).update(
        opted_out_at=dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)
    )
    opted_out = send(operator, {"phone": PHONE, "channel": channel.pk, "body": "Hola"})

    assert off.status_code == 409
    assert off.json() == {
        "error": f"The channel {disabled.name} is disabled: enable it to send on it."
    }
    assert unknown.status_code == 404
    assert bad.status_code == 400
    assert set(bad.json()["fields"]) == {"channel", "body", "media_url"}
    assert both.status_code == 400
    assert opted_out.status_code == 409
    assert "opted out on 2026-03-02" in opted_out.json()["error"]
    assert "nothing more may be sent to them" in opted_out.json()["error"]
    assert not Message.objects.exists()
    assert not IdempotentRequest.objects.exists()
    # Put right, the same key is taken.
    Contact.objects.filter(pk=contact.pk).update(opted_out_at=None)
    fixed = send(operator, {"phone": PHONE, "channel": channel.pk, "body": "Hola"})
    assert fixed.status_code == 201


@pytest.mark.django_db
def test_a_flow_is_started_for_the_contact_once_per_key(
    operator: KeyClient, contact: Contact, make_flow: Any, provider: Any
) -> None:
    flow = make_flow(trigger="event", event_name="order_paid", body="Pedido {{order}}")

    first = send(
        operator, {"phone": PHONE, "flow": flow.pk, "context": {"order": "A-17"}}
    )
    again = send(
        operator, {"phone": PHONE, "flow": flow.pk, "context": {"order": "A-17"}}
    )

    assert first.status_code == 201, first.json()
    journey = first.json()["journey"]
    assert journey["flow"] == flow.pk
    assert journey["version"] == 1
    assert journey["phone"] == PHONE
    assert again.json() == first.json()
    stored = Journey.objects.get()
    assert (stored.entry_key, stored.context) == ("api:order-17", {"order": "A-17"})
    [message] = Message.objects.all()
    send_queued(message.pk)
    assert [text for _, _, text in provider.sent] == ["Pedido A-17"]


@pytest.mark.django_db
def test_a_flow_that_cannot_start_is_a_409_with_the_reason(
    operator: KeyClient, contact: Contact, make_flow: Any
) -> None:
    draft = make_flow(publish=False, name="Draft")

    response = send(operator, {"phone": PHONE, "flow": draft.pk}, key="k1")
    missing = send(operator, {"phone": PHONE, "flow": 999999}, key="k2")

    assert response.status_code == 409
    assert response.json() == {
        "error": "Flow 'Draft' is draft: only a published flow can be started."
    }
    assert missing.json()["fields"] == {"flow": "No flow has the id 999999."}
    assert not Journey.objects.exists()
    assert Flow.objects.count() == 1


@pytest.mark.django_db
def test_a_viewer_may_not_send(
    viewer: KeyClient, contact: Contact, make_channel: Any
) -> None:
    response = send(viewer, {"phone": PHONE, "channel": make_channel().pk, "body": "x"})
    assert response.status_code == 403
    assert "Can add message" in response.json()["error"]
    assert not Message.objects.exists()
