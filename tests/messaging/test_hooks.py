"""Provider webhooks: delivery receipts that only move forward, replies, STOP."""

import json
import time
import uuid
from typing import Any

import pytest
from django.test import Client, override_settings
from django.utils import timezone
from twilio.request_validator import RequestValidator

from audiences.models import Contact, Suppression
from audiences.suppressing import address_suppressed
from base.signing import signed_headers
from campaigns.runs import campaign_tick
from messaging.credentials import channel_signing_secrets
from messaging.models import InboundMessage, Message
from tests.conftest import PHONES

PUBLIC = "https://fc.example"


TWILIO = {"account_sid": "AC123", "auth_token": "tok"}


@pytest.fixture
def twilio_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The old deployment-wide variables, set: the hooks must not read them."""
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "env-token")
    monkeypatch.setenv("FLOWCAST_WEBHOOK_SECRET", "s3cret")


def twilio_post(
    client: Client,
    path: str,
    params: dict[str, str],
    token: str = "tok",
    *,
    public: str = PUBLIC,
    signed: str = "",
    headers: dict[str, str] | None = None,
) -> Any:
    """POST as Twilio does, signed by twilio-python's own RequestValidator for the
    URL ``signed`` (by default the one FLOWCAST_PUBLIC_URL, ``public``, makes)."""
    url = signed or public + path
    sign = RequestValidator(token).compute_signature(url, params)
    with override_settings(FLOWCAST_PUBLIC_URL=public):
        return client.post(
            path, params, headers={"X-Twilio-Signature": sign, **(headers or {})}
        )


@pytest.fixture
def sent_messages(make_campaign: Any, make_flow: Any, make_channel: Any) -> Any:
    channel = make_channel(
        name="SMS", kind="sms", settings={"from": "+15005550006"}, credentials=TWILIO
    )
    campaign = make_campaign(started=True, flow=make_flow(channel=channel))
    campaign_tick(campaign_id=campaign.pk)
    Message.objects.update(status="sent", provider_id="SMx")
    return channel, list(Message.objects.order_by("pk"))


@pytest.mark.django_db
def test_a_signed_receipt_marks_delivered_and_a_late_sent_changes_nothing(
    client: Client, twilio_env: None, sent_messages: Any
) -> None:
    channel, messages = sent_messages
    path = f"/hooks/{channel.pk}/status?message={messages[0].pk}"

    delivered = twilio_post(
        client, path, {"MessageSid": "SMx", "MessageStatus": "delivered"}
    )
    late = twilio_post(client, path, {"MessageSid": "SMx", "MessageStatus": "sent"})
    again = twilio_post(
        client, path, {"MessageSid": "SMx", "MessageStatus": "delivered"}
    )

    assert delivered.json()["outcome"] == "now delivered"
    assert late.json()["outcome"] == "no change"
    assert again.json()["outcome"] == "no change"
    assert Message.objects.get(pk=messages[0].pk).status == "delivered"
    failed = twilio_post(
        client,
        f"/hooks/{channel.pk}/status?message={messages[1].pk}",
        {"MessageStatus": "undelivered", "ErrorCode": "30007"},
    )
    assert failed.json()["outcome"] == "now failed"
    assert Message.objects.get(pk=messages[1].pk).error == "30007"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("code", "to", "suppressed"),
    [
        ("30003", "{phone}", True),
        ("30005", "whatsapp:{phone}", True),
        ("30006", "", True),  # no To: the message's contact's number
        ("30007", "{phone}", False),  # carrier filtering: about the message
        ("30008", "{phone}", False),
    ],
)
def test_a_failed_receipt_naming_a_dead_number_suppresses_it(
    code: str,
    to: str,
    suppressed: bool,
    client: Client,
    twilio_env: None,
    sent_messages: Any,
) -> None:
    channel, messages = sent_messages
    message = messages[1]
    phone = message.contact.phone
    params = {"MessageSid": "SMx", "MessageStatus": "undelivered", "ErrorCode": code}
    if to:
        params["To"] = to.format(phone=phone)

    answer = twilio_post(
        client, f"/hooks/{channel.pk}/status?message={message.pk}", params
    )

    assert answer.json()["outcome"] == "now failed"
    entry = address_suppressed("phone", phone)
    error = Message.objects.get(pk=message.pk).error
    if not suppressed:
        assert entry is None
        assert error == code
        return
    assert entry is not None
    assert entry.reason == Suppression.Reason.PROVIDER
    assert entry.source.startswith(f"Twilio error {code}: ")
    assert entry.source.endswith("on channel SMS")
    assert error.startswith(f"bounced: Twilio error {code}")
    assert error.endswith("(number suppressed)")
    others = [m.contact.phone for m in messages if m.pk != message.pk]
    assert not any(address_suppressed("phone", other) for other in others)


@pytest.mark.django_db
def test_a_receipt_for_another_channels_message_suppresses_nothing(
    client: Client, twilio_env: None, sent_messages: Any, make_channel: Any
) -> None:
    _, messages = sent_messages
    other = make_channel(
        name="Other SMS",
        kind="sms",
        settings={"from": "+15005550007"},
        credentials=TWILIO,
    )
    phone = messages[0].contact.phone

    answer = twilio_post(
        client,
        f"/hooks/{other.pk}/status?message={messages[0].pk}",
        {"MessageStatus": "undelivered", "ErrorCode": "30003", "To": phone},
    )

    assert answer.json()["outcome"] == "no change"
    assert address_suppressed("phone", phone) is None


@pytest.mark.django_db
def test_a_receipt_without_a_good_signature_is_refused(
    client: Client, twilio_env: None, sent_messages: Any
) -> None:
    channel, messages = sent_messages
    path = f"/hooks/{channel.pk}/status?message={messages[0].pk}"
    params = {"MessageStatus": "delivered"}
    assert twilio_post(client, path, params, token="wrong").status_code == 403
    # Signed with the token of the environment, not the channel's.
    assert twilio_post(client, path, params, token="env-token").status_code == 403
    assert client.post(path, params).status_code == 403
    assert Message.objects.get(pk=messages[0].pk).status == "sent"


@pytest.mark.django_db
def test_a_receipt_that_beats_the_worker_is_applied_when_it_records_the_send(
    client: Client, twilio_env: None, sent_messages: Any
) -> None:
    from messaging.backends import Receipt
    from messaging.claims import claimed_messages
    from messaging.delivery import Outcome
    from messaging.recording import SentBatch
    from messaging.sending import DispatchReport, _ready, _record
    from messaging.windows import ActiveHours

    channel, messages = sent_messages
    message = messages[0]
    token = uuid.uuid4()
    Message.objects.filter(pk=message.pk).update(
        status="queued", claim_token=token, provider_id=""
    )
    path = f"/hooks/{channel.pk}/status?message={message.pk}"
    early = twilio_post(client, path, {"MessageStatus": "delivered"})
    assert early.json()["outcome"] == "kept until the send is recorded"

    # The worker now records its send: the early receipt wins over "sent".
    mine = Message.objects.filter(pk=message.pk)
    batch = Message.objects.get(pk=message.pk).batch
    [row] = claimed_messages(mine, batch)
    report = DispatchReport()
    sent = SentBatch(token, report)
    assert _ready(row, batch, token, timezone.now(), report, ActiveHours(batch.window))
    _record(Outcome(row, receipt=Receipt(provider_id="SMfast")), token, report, sent)
    sent.flush()
    assert Message.objects.get(pk=message.pk).status == "delivered"


@pytest.mark.django_db
def test_a_stop_reply_opts_out_at_once_and_skips_what_is_queued(
    client: Client,
    twilio_env: None,
    make_campaign: Any,
    make_flow: Any,
    make_channel: Any,
) -> None:
    channel = make_channel(
        name="SMS", kind="sms", settings={"from": "+15005550006"}, credentials=TWILIO
    )
    campaign = make_campaign(started=True, flow=make_flow(channel=channel))
    campaign_tick(campaign_id=campaign.pk)
    path = f"/hooks/{channel.pk}/inbound"

    reply = twilio_post(
        client, path, {"From": PHONES[0], "Body": "  Stop ", "MessageSid": "SMin1"}
    )
    repeat = twilio_post(
        client, path, {"From": PHONES[0], "Body": "  Stop ", "MessageSid": "SMin1"}
    )
    chat = twilio_post(
        client,
        path,
        {"From": PHONES[1], "Body": "¿Qué horario?", "MessageSid": "SMin2"},
    )

    assert reply.status_code == repeat.status_code == chat.status_code == 200
    assert "<Response>" in reply.content.decode()
    carlos = Contact.objects.get(phone=PHONES[0])
    # The number is suppressed, not the contact opted out of everything (email
    # still reaches it).
    assert carlos.opted_out_at is None
    entry = address_suppressed("phone", PHONES[0])
    assert entry is not None
    assert (entry.reason, "Stop" in entry.source) == ("stop", True)
    skipped = Message.objects.get(contact=carlos)
    assert (skipped.status, skipped.error) == ("skipped", "suppressed")
    assert Message.objects.filter(status="queued").count() == 2
    assert InboundMessage.objects.count() == 2
    assert Contact.objects.get(phone=PHONES[1]).opted_out_at is None


@pytest.mark.django_db
@pytest.mark.parametrize(
    "text",
    ["STOP", "stop", " Stop all!", "unsubscribe", "Cancel", "end", "QUIT", "baja"],
)
def test_stop_words_in_any_case_and_spacing(text: str, make_channel: Any) -> None:
    from messaging.keywords import keyword_of

    channel = make_channel(kind="sms")
    with override_settings(
        MESSAGING_STOP_KEYWORDS=[
            "STOP",
            "STOPALL",
            "UNSUBSCRIBE",
            "CANCEL",
            "END",
            "QUIT",
            "BAJA",
        ]
    ):
        assert keyword_of(channel, text) == "stop"
        assert keyword_of(channel, "stop sending me the blue one please") == ""


@pytest.mark.django_db
def test_a_webhook_channel_reports_with_its_own_signature(
    client: Client,
    twilio_env: None,
    make_campaign: Any,
    make_flow: Any,
    make_channel: Any,
) -> None:
    channel = make_channel(name="CRM", kind="webhook", settings={"url": "http://x"})
    campaign = make_campaign(started=True, flow=make_flow(channel=channel))
    campaign_tick(campaign_id=campaign.pk)
    message = Message.objects.order_by("pk").first()
    assert message is not None
    Message.objects.filter(pk=message.pk).update(status="sent")
    body = json.dumps({"id": message.pk, "status": "delivered"}).encode()
    [secret] = channel_signing_secrets(channel)
    hook_id, now = f"msg_{uuid.uuid4().hex}", int(time.time())

    response = client.post(
        f"/hooks/{channel.pk}/status",
        body,
        content_type="application/json",
        headers=signed_headers([secret], hook_id, now, body),
    )

    assert response.json() == {"message": message.pk, "outcome": "now delivered"}
    stop = json.dumps({"from": PHONES[1], "text": "STOP"}).encode()
    forged = client.post(
        f"/hooks/{channel.pk}/inbound",
        stop,
        content_type="application/json",
        headers=signed_headers(["whsec_" + "A" * 43 + "="], hook_id + "x", now, stop),
    )
    assert forged.status_code == 403
    assert Contact.objects.get(phone=PHONES[1]).opted_out_at is None


RECEIPT = {"MessageSid": "SMx", "MessageStatus": "delivered"}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("public", "signed_origin"),
    [
        pytest.param(
            "https://fc.example:443", "https://fc.example:443", id="both with :443"
        ),
        pytest.param(
            "https://fc.example:443", "https://fc.example", id="Twilio without the port"
        ),
        pytest.param(
            "https://fc.example", "https://fc.example:443", id="Twilio with the port"
        ),
    ],
)
def test_a_receipt_is_accepted_whether_the_url_names_the_standard_port_or_not(
    client: Client,
    twilio_env: None,
    sent_messages: Any,
    public: str,
    signed_origin: str,
) -> None:
    channel, messages = sent_messages
    path = f"/hooks/{channel.pk}/status?message={messages[0].pk}"

    response = twilio_post(
        client, path, RECEIPT, public=public, signed=signed_origin + path
    )

    assert response.status_code == 200, response.content
    assert Message.objects.get(pk=messages[0].pk).status == "delivered"


# The proxy hands Django the request with its own upstream Host and says in
# X-Forwarded-Host (and X-Forwarded-Proto) what Twilio called.
THROUGH_PROXY = {"X-Forwarded-Host": "fc.example", "X-Forwarded-Proto": "https"}


@pytest.mark.django_db
@override_settings(USE_X_FORWARDED_HOST=True, ALLOWED_HOSTS=["fc.example"])
def test_behind_a_trusted_proxy_the_forwarded_host_is_the_url_twilio_signed(
    client: Client, twilio_env: None, sent_messages: Any
) -> None:
    channel, messages = sent_messages
    path = f"/hooks/{channel.pk}/status?message={messages[0].pk}"

    wrong_token, response = (
        twilio_post(
            client,
            path,
            RECEIPT,
            token,
            public="",
            signed=f"https://fc.example{path}",
            headers={**THROUGH_PROXY, "Host": "web:8000"},
        )
        for token in ("wrong", "tok")
    )

    assert wrong_token.status_code == 403
    assert wrong_token.json() == {"error": "The signature is missing or wrong."}
    assert response.status_code == 200, response.content
    assert Message.objects.get(pk=messages[0].pk).status == "delivered"


@pytest.mark.django_db
@override_settings(USE_X_FORWARDED_HOST=False, ALLOWED_HOSTS=["web", "fc.example"])
def test_a_forwarded_host_nobody_trusts_is_not_the_url_checked(
    client: Client, twilio_env: None, sent_messages: Any
) -> None:
    channel, messages = sent_messages
    path = f"/hooks/{channel.pk}/status?message={messages[0].pk}"

    response = twilio_post(
        client,
        path,
        RECEIPT,
        public="",
        signed=f"https://fc.example{path}",
        headers={**THROUGH_PROXY, "Host": "web"},
    )

    assert response.status_code == 403
    assert Message.objects.get(pk=messages[0].pk).status == "sent"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "public", ["https://fc.example", "https://fc.example:443"], ids=str
)
def test_a_wrong_token_is_refused_with_or_without_the_port(
    client: Client, twilio_env: None, sent_messages: Any, public: str
) -> None:
    channel, messages = sent_messages
    path = f"/hooks/{channel.pk}/status?message={messages[0].pk}"

    refused = [
        twilio_post(client, path, RECEIPT, "wrong", public=public, signed=url + path)
        for url in ("https://fc.example", "https://fc.example:443")
    ]

    assert [response.status_code for response in refused] == [403, 403]
    assert Message.objects.get(pk=messages[0].pk).status == "sent"
