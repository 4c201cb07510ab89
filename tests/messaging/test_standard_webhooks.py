"""Webhook channels sign as Standard Webhooks says: the `standardwebhooks` library,
which nobody here wrote, verifies our posts, and signs the hooks we take."""

import base64
import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import Client, override_settings
from django.utils import timezone
from pytest_httpserver import HTTPServer
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError
from werkzeug import Request, Response

from audiences.models import Contact
from campaigns.runs import campaign_tick
from messaging.credentials import channel_secret_rotate, channel_signing_secrets
from messaging.models import Channel, InboundMessage, Message
from messaging.sending import messages_send_range
from tests.conftest import PHONES, batch_of


def send_run(campaign: Any) -> Any:
    run = campaign_tick(campaign_id=campaign.pk)
    assert run is not None
    return messages_send_range(batch_id=batch_of(run), first_id=0, last_id=10**9)


def receiver(httpserver: HTTPServer, refuse_first: bool = False) -> list[Request]:
    seen: list[Request] = []

    def receive(request: Request) -> Response:
        seen.append(request)
        if refuse_first and len(seen) == 1:
            return Response("busy", status=503)
        return Response("{}", content_type="application/json")

    httpserver.expect_request("/in", method="POST").respond_with_handler(receive)
    return seen


@pytest.mark.django_db
def test_a_real_post_is_verified_by_the_standardwebhooks_library(
    httpserver: HTTPServer, make_campaign: Any, make_flow: Any, make_channel: Any
) -> None:
    seen = receiver(httpserver, refuse_first=True)
    channel = make_channel(
        name="CRM", kind="webhook", settings={"url": httpserver.url_for("/in")}
    )
    [secret] = channel_signing_secrets(channel)
    assert secret.startswith("whsec_")
    assert 24 <= len(base64.b64decode(secret.removeprefix("whsec_"))) <= 32

    report = send_run(make_campaign(started=True, flow=make_flow(channel=channel)))

    assert (report.sent, report.retrying) == (2, 1)
    hook = Webhook(secret)
    for request in seen:
        body = request.get_data()
        headers = dict(request.headers)
        found = hook.verify(body, headers)
        assert found["id"] == int(request.headers["Idempotency-Key"])
        assert request.headers["webhook-id"] == f"msg_{found['id']}"
        assert abs(int(request.headers["webhook-timestamp"]) - time.time()) < 60
        assert "X-Flowcast-Signature" not in request.headers
        with pytest.raises(WebhookVerificationError):
            hook.verify(body.replace(b"Hola", b"Hole"), headers)
        with pytest.raises(WebhookVerificationError):
            Webhook("whsec_" + base64.b64encode(b"x" * 32).decode()).verify(
                body, headers
            )
    # The refused first try's retry carries the same webhook-id, so a receiver
    # that took the first one can drop the second.
    retried = Message.objects.get(status="queued")
    Message.objects.filter(pk=retried.pk).update(not_before=None)
    messages_send_range(batch_id=retried.batch_id, first_id=0, last_id=10**9)
    ids = [request.headers["webhook-id"] for request in seen]
    assert ids[0] == ids[-1] == f"msg_{retried.pk}"
    assert len(seen) == 4


@pytest.mark.django_db
def test_after_a_rotation_posts_are_signed_with_both_secrets_until_the_overlap_ends(
    httpserver: HTTPServer, make_campaign: Any, make_flow: Any, make_channel: Any
) -> None:
    seen = receiver(httpserver)
    channel = make_channel(
        name="CRM", kind="webhook", settings={"url": httpserver.url_for("/in")}
    )
    [old] = channel_signing_secrets(channel)
    new = channel_secret_rotate(channel=channel)
    assert new != old
    channel.refresh_from_db()
    until = channel.previous_secret_until
    assert until is not None
    assert timedelta(hours=23) < until - timezone.now() <= timedelta(hours=24)

    send_run(make_campaign(started=True, flow=make_flow(channel=channel)))

    assert len(seen) == 3
    for request in seen:
        assert len(request.headers["webhook-signature"].split(" ")) == 2
        Webhook(new).verify(request.get_data(), dict(request.headers))
        Webhook(old).verify(request.get_data(), dict(request.headers))

    Channel.objects.filter(pk=channel.pk).update(
        previous_secret_until=timezone.now() - timedelta(seconds=1)
    )
    seen.clear()
    send_run(make_campaign(started=True, flow=make_flow(channel=channel)))
    assert len(seen) == 3
    for request in seen:
        Webhook(new).verify(request.get_data(), dict(request.headers))
        with pytest.raises(WebhookVerificationError):
            Webhook(old).verify(request.get_data(), dict(request.headers))


# --- Hooks coming in -----------------------------------------------------------------


def signed(
    secret: str, body: bytes, *, msg_id: str = "", at: datetime | None = None
) -> dict[str, str]:
    """Headers as the standardwebhooks library signs them."""
    msg_id = msg_id or f"msg_{uuid.uuid4().hex}"
    at = at or datetime.now(tz=UTC)
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(secret).sign(msg_id, at, body.decode()),
    }


def post(client: Client, path: str, body: bytes, headers: dict[str, str]) -> Any:
    return client.post(path, body, content_type="application/json", headers=headers)


@pytest.fixture
def hooked(make_campaign: Any, make_flow: Any, make_channel: Any) -> Any:
    """A webhook channel with a sent message; the channel, its secret, the message."""
    channel = make_channel(name="CRM", kind="webhook", settings={"url": "http://x"})
    campaign_tick(
        campaign_id=make_campaign(started=True, flow=make_flow(channel=channel)).pk
    )
    message = Message.objects.order_by("pk").first()
    assert message is not None
    Message.objects.filter(pk=message.pk).update(status="sent")
    [secret] = channel_signing_secrets(channel)
    return channel, secret, message


@pytest.fixture(params=["in-process", "redis"])
def replay_store(request: pytest.FixtureRequest) -> Any:
    if request.param == "in-process":
        yield
        return
    request.getfixturevalue("redis_client")
    with override_settings(MESSAGING_REDIS_URL=request.getfixturevalue("broker_url")):
        yield


@pytest.mark.django_db
def test_a_hook_signed_with_the_channels_secret_is_taken(
    client: Client, hooked: Any, replay_store: None
) -> None:
    channel, secret, message = hooked
    status = json.dumps({"id": message.pk, "status": "delivered"}).encode()
    answer = post(client, f"/hooks/{channel.pk}/status", status, signed(secret, status))
    assert answer.json() == {"message": message.pk, "outcome": "now delivered"}

    stop = json.dumps({"from": PHONES[1], "text": "STOP", "id": "r1"}).encode()
    answer = post(client, f"/hooks/{channel.pk}/inbound", stop, signed(secret, stop))
    assert answer.json()["opted_out"] is True
    assert Contact.objects.get(phone=PHONES[1]).opted_out_at is not None


@pytest.mark.django_db
@pytest.mark.parametrize(
    "forgery",
    [
        "another channel's secret",
        "no signature",
        "the old shared FLOWCAST_WEBHOOK_SECRET",
        "the old shared secret, as Standard Webhooks",
        "a tampered body",
    ],
)
def test_a_forged_hook_is_refused_and_changes_nothing(
    client: Client,
    hooked: Any,
    make_channel: Any,
    monkeypatch: pytest.MonkeyPatch,
    forgery: str,
) -> None:
    import hashlib
    import hmac

    channel, secret, message = hooked
    other = make_channel(name="Other", kind="webhook", settings={"url": "http://y"})
    [other_secret] = channel_signing_secrets(other)
    monkeypatch.setenv("FLOWCAST_WEBHOOK_SECRET", "s3cret")
    bodies = {
        "status": json.dumps({"id": message.pk, "status": "delivered"}).encode(),
        "inbound": json.dumps({"from": PHONES[1], "text": "STOP"}).encode(),
    }
    for hook, body in bodies.items():
        if forgery == "another channel's secret":
            headers = signed(other_secret, body)
        elif forgery == "no signature":
            headers = {}
        elif forgery == "the old shared FLOWCAST_WEBHOOK_SECRET":
            digest = hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
            headers = {"X-Flowcast-Signature": f"sha256={digest}"}
        elif forgery == "the old shared secret, as Standard Webhooks":
            headers = signed("whsec_" + base64.b64encode(b"s3cret").decode(), body)
        else:
            headers = signed(secret, body)
            body = body.replace(b"STOP", b"stop").replace(b"delivered", b"failed")

        answer = post(client, f"/hooks/{channel.pk}/{hook}", body, headers)

        assert answer.status_code == 403, answer.content
        assert answer.json()["error"]
    assert Message.objects.get(pk=message.pk).status == "sent"
    assert Contact.objects.get(phone=PHONES[1]).opted_out_at is None
    assert not InboundMessage.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "stamp", ["1" + "0" * 400, "1_700_000_000", "１７００", "-5", ""]
)
def test_a_timestamp_that_is_no_unix_seconds_is_refused_not_a_crash(
    client: Client, hooked: Any, stamp: str
) -> None:
    channel, secret, message = hooked
    body = json.dumps({"id": message.pk, "status": "delivered"}).encode()
    headers = {**signed(secret, body), "webhook-timestamp": stamp}

    answer = post(client, f"/hooks/{channel.pk}/status", body, headers)

    assert answer.status_code == 403, answer.content
    assert Message.objects.get(pk=message.pk).status == "sent"


@pytest.mark.django_db
def test_a_replayed_or_stale_hook_is_refused(
    client: Client, hooked: Any, replay_store: None
) -> None:
    channel, secret, message = hooked
    path = f"/hooks/{channel.pk}/inbound"
    chat = json.dumps({"from": PHONES[0], "text": "hola", "id": "r1"}).encode()
    headers = signed(secret, chat)
    assert post(client, path, chat, headers).json()["stored"] is True

    again = post(client, path, chat, headers)
    assert again.status_code == 403
    assert "received already" in again.json()["error"]

    stop = json.dumps({"from": PHONES[1], "text": "STOP", "id": "r2"}).encode()
    for at in (
        datetime.now(tz=UTC) - timedelta(minutes=6),
        datetime.now(tz=UTC) + timedelta(minutes=6),
    ):
        stale = post(client, path, stop, signed(secret, stop, at=at))
        assert stale.status_code == 403
        assert "5 minutes" in stale.json()["error"]
    assert Contact.objects.get(phone=PHONES[1]).opted_out_at is None
    assert InboundMessage.objects.count() == 1
    # A hook 4 minutes old is still on time.
    late = signed(secret, stop, at=datetime.now(tz=UTC) - timedelta(minutes=4))
    assert post(client, path, stop, late).json()["opted_out"] is True


@pytest.mark.django_db
def test_a_hook_not_taken_may_be_sent_again(
    client: Client, hooked: Any, replay_store: None
) -> None:
    """Only a hook that was taken counts as received: one answered 400 (or failing
    on our side) is not a replay when the sender tries it again."""
    channel, secret, message = hooked
    path = f"/hooks/{channel.pk}/status"
    unclear = json.dumps({"id": message.pk}).encode()  # no status
    headers = signed(secret, unclear)
    assert post(client, path, unclear, headers).status_code == 400
    again = post(client, path, unclear, headers)
    assert again.status_code == 400, again.content  # still unclear, not "a replay"

    status = json.dumps({"id": message.pk, "status": "delivered"}).encode()
    headers = signed(secret, status)
    assert post(client, path, status, headers).status_code == 200
    assert post(client, path, status, headers).status_code == 403


@pytest.mark.django_db
def test_the_previous_secret_is_taken_until_its_overlap_ends(
    client: Client, hooked: Any
) -> None:
    channel, old, message = hooked
    new = channel_secret_rotate(channel=channel)
    path = f"/hooks/{channel.pk}/status"
    body = json.dumps({"id": message.pk, "status": "delivered"}).encode()
    assert post(client, path, body, signed(old, body)).status_code == 200
    assert post(client, path, body, signed(new, body)).status_code == 200

    Channel.objects.filter(pk=channel.pk).update(
        previous_secret_until=timezone.now() - timedelta(seconds=1)
    )
    assert post(client, path, body, signed(old, body)).status_code == 403
    assert post(client, path, body, signed(new, body)).status_code == 200


@pytest.mark.django_db
def test_a_secret_no_key_opens_fails_the_send_saying_why(
    httpserver: HTTPServer,
    make_campaign: Any,
    make_flow: Any,
    make_channel: Any,
    settings: Any,
) -> None:
    from cryptography.fernet import Fernet

    seen = receiver(httpserver)
    channel = make_channel(
        name="CRM", kind="webhook", settings={"url": httpserver.url_for("/in")}
    )
    settings.FLOWCAST_SECRETS_KEYS = [Fernet.generate_key().decode()]

    report = send_run(make_campaign(started=True, flow=make_flow(channel=channel)))

    assert (report.sent, report.retrying) == (0, 3)
    assert not seen
    assert "FLOWCAST_SECRETS_KEY" in Message.objects.first().error  # type: ignore[union-attr]
