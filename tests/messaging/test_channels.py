"""Each channel against a real local peer: an SMTP server (aiosmtpd), a webhook
receiver and a server speaking Twilio's Messages API (pytest-httpserver)."""

import base64
import email
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from django.test import override_settings
from pytest_httpserver import HTTPServer
from standardwebhooks import Webhook
from werkzeug import Request, Response

from audiences.models import Contact
from campaigns.runs import campaign_tick
from messaging.credentials import channel_signing_secrets
from messaging.models import Channel, Message
from messaging.sending import messages_send_range
from tests.conftest import PHONES, batch_of


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[email.message.Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"


@contextmanager
def smtp_peer(handler: Any) -> Iterator[Any]:
    """A local SMTP server (aiosmtpd) answering with ``handler``, the email
    channel's server while it runs."""
    import port_for

    port = port_for.select_random()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        with override_settings(
            EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=port,
        ):
            yield handler
    finally:
        controller.stop()


@pytest.fixture
def smtp() -> Iterator[Mailbox]:
    with smtp_peer(Mailbox()) as mailbox:
        yield mailbox


def send_run(campaign: Any) -> Any:
    run = campaign_tick(campaign_id=campaign.pk)
    assert run is not None
    return messages_send_range(batch_id=batch_of(run), first_id=0, last_id=10**9)


@pytest.mark.django_db
def test_an_email_campaign_reaches_the_smtp_server(
    smtp: Mailbox, make_campaign: Any, make_flow: Any, make_channel: Any
) -> None:
    Contact.objects.all().delete()
    channel = make_channel(
        name="Newsletter",
        kind="email",
        settings={"from_email": "news@tienda.example", "subject": "Ofertas"},
    )
    flow = make_flow(channel=channel, body="Hola {{NOMBRE}} 🎉")
    campaign = make_campaign(
        started=True,
        flow=flow,
        sender_name="Tienda Sol",
        reply_to="ventas@tienda.example",
    )
    Contact.objects.filter(phone=PHONES[0]).update(email="carlos@example.com")
    Contact.objects.filter(phone=PHONES[1]).update(email="ana@example.com")

    report = send_run(campaign)

    assert report.sent == 2
    assert report.failed == 1  # the third contact has no email address
    got = {m["To"]: m for m in smtp.messages}
    assert set(got) == {"carlos@example.com", "ana@example.com"}
    carlos = got["carlos@example.com"]
    assert carlos["Subject"] == "Ofertas"
    assert carlos["From"] == "Tienda Sol <news@tienda.example>"
    assert carlos["Reply-To"] == "ventas@tienda.example"
    message = Message.objects.get(contact__email="carlos@example.com")
    assert carlos["Message-ID"] == f"<flowcast-{message.pk}@flowcast.local>"
    assert message.provider_id == carlos["Message-ID"]
    payload = carlos.get_payload(decode=True)
    assert isinstance(payload, bytes)
    assert "Hola N0" in payload.decode()
    failed = Message.objects.get(status="failed")
    assert "has no email address" in failed.error


@pytest.mark.django_db
def test_a_webhook_campaign_posts_signed_json_with_an_idempotency_key(
    httpserver: HTTPServer,
    make_campaign: Any,
    make_flow: Any,
    make_channel: Any,
) -> None:
    seen: list[Request] = []

    def receive(request: Request) -> Response:
        seen.append(request)
        if len(seen) == 1:
            return Response("busy", status=503)  # the first try is refused
        return Response(
            json.dumps({"id": f"hook-{len(seen)}"}), content_type="application/json"
        )

    httpserver.expect_request("/incoming", method="POST").respond_with_handler(receive)
    channel = make_channel(
        name="CRM", kind="webhook", settings={"url": httpserver.url_for("/incoming")}
    )
    campaign = make_campaign(started=True, flow=make_flow(channel=channel))

    report = send_run(campaign)

    assert (report.sent, report.retrying) == (2, 1)
    hook = Webhook(channel_signing_secrets(channel)[0])
    for request in seen:
        body = request.get_data()
        hook.verify(
            body, dict(request.headers)
        )  # tests/messaging/test_standard_webhooks
        assert request.headers["Idempotency-Key"] == str(json.loads(body)["id"])
    first = json.loads(seen[1].get_data())
    assert first["to"]["phone"] in PHONES
    assert first["text"].startswith("Hola ")
    retried = Message.objects.get(status="queued")
    assert "503" in retried.error
    assert retried.not_before is not None


TWILIO = {"account_sid": "AC123", "auth_token": "tok"}


def twilio_handler(sent: list[dict[str, str]], status: int = 201) -> Any:
    def handle(request: Request) -> Response:
        auth = base64.b64decode(request.headers["Authorization"].split()[1]).decode()
        assert auth == "AC123:tok"
        form = request.form.to_dict()
        sent.append(form)
        if form["To"].endswith("3445566"):
            body = {
                "code": 21211,
                "message": "The 'To' number is not a valid phone number.",
            }
            return Response(
                json.dumps(body), status=400, content_type="application/json"
            )
        answer = {"sid": f"SM{len(sent):032d}", "status": "queued"}
        return Response(
            json.dumps(answer), status=status, content_type="application/json"
        )

    return handle


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["sms", "whatsapp"])
def test_sms_and_whatsapp_go_through_twilios_api(
    kind: str,
    httpserver: HTTPServer,
    make_campaign: Any,
    make_flow: Any,
    make_channel: Any,
) -> None:
    sent: list[dict[str, str]] = []
    httpserver.expect_request(
        "/2010-04-01/Accounts/AC123/Messages.json", method="POST"
    ).respond_with_handler(twilio_handler(sent))
    channel = make_channel(
        name=f"Twilio {kind}",
        kind=kind,
        settings={"from": "+15005550006"},
        credentials=TWILIO,
    )
    flow = make_flow(channel=channel)
    from flows.models import FlowStep

    FlowStep.objects.filter(flow=flow, kind="send").update(
        media_url="https://example.com/a.png"
    )
    from flows.publishing import flow_publish

    flow_publish(flow=flow)
    campaign = make_campaign(started=True, flow=flow)

    with override_settings(
        TWILIO_API_BASE=httpserver.url_for("/"),
        FLOWCAST_PUBLIC_URL="https://fc.example",
    ):
        report = send_run(campaign)

    assert (report.sent, report.failed) == (2, 1)
    prefix = "whatsapp:" if kind == "whatsapp" else ""
    assert {form["To"] for form in sent} == {f"{prefix}{p}" for p in PHONES}
    assert all(form["From"] == f"{prefix}+15005550006" for form in sent)
    assert all(form["MediaUrl"] == "https://example.com/a.png" for form in sent)
    assert all(
        form["StatusCallback"].startswith(
            f"https://fc.example/hooks/{channel.pk}/status?message="
        )
        for form in sent
    )
    failed = Message.objects.get(status="failed")
    assert "not a valid phone number" in failed.error
    assert Message.objects.filter(provider_id__startswith="SM").count() == 2


@pytest.mark.django_db
def test_a_channel_is_refused_without_the_settings_its_provider_needs() -> None:
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="need the URL to post to"):
        Channel(name="x", kind="webhook").full_clean()
    with pytest.raises(ValidationError, match="need the sending number"):
        Channel(name="y", kind="sms").full_clean()


@pytest.mark.django_db
def test_one_campaign_reaches_smtp_a_webhook_and_twilio(
    smtp: Mailbox,
    httpserver: HTTPServer,
    make_campaign: Any,
    make_channel: Any,
) -> None:
    from flows.models import Flow, FlowStep
    from flows.publishing import flow_publish

    hooks: list[Request] = []
    texts: list[dict[str, str]] = []

    def hook_receiver(request: Request) -> Response:
        hooks.append(request)
        return Response("{}")

    httpserver.expect_request("/hook", method="POST").respond_with_handler(
        hook_receiver
    )
    httpserver.expect_request(
        "/2010-04-01/Accounts/AC123/Messages.json", method="POST"
    ).respond_with_handler(twilio_handler(texts))
    email_channel = make_channel(name="Mail", kind="email")
    hook = make_channel(
        name="Hook", kind="webhook", settings={"url": httpserver.url_for("/hook")}
    )
    sms = make_channel(
        name="SMS", kind="sms", settings={"from": "+15005550006"}, credentials=TWILIO
    )
    flow = Flow.objects.create(name="Everywhere")
    for position, channel in enumerate((email_channel, hook, sms), start=1):
        FlowStep.objects.create(
            flow=flow,
            position=position,
            kind="send",
            channel=channel,
            body="Hola {{NOMBRE}}",
        )
    FlowStep.objects.create(flow=flow, position=4, kind="end")
    flow_publish(flow=flow)
    campaign = make_campaign(started=True, flow=flow)
    Contact.objects.update(email="someone@example.com")

    with override_settings(TWILIO_API_BASE=httpserver.url_for("/")):
        report = send_run(campaign)

    # 3 contacts x 3 channels; Twilio refuses one number (see twilio_handler).
    assert (report.sent, report.failed) == (8, 1)
    assert len(smtp.messages) == 3
    assert len(hooks) == 3
    assert len(texts) == 3
