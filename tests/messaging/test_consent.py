"""Consent per channel: the suppression list stops the channels that reach the
suppressed address (fan-out, claim, in flight), and STOP / START / HELP replies,
with keywords per channel, through the Twilio-signed inbound hook."""

from typing import Any

import pytest
from django.test import Client, override_settings
from pytest_httpserver import HTTPServer

from audiences.models import Contact, Suppression
from audiences.suppressing import address_suppress, address_suppressed
from campaigns.runs import campaign_tick
from messaging.models import InboundMessage, Message
from messaging.sending import messages_send_range
from tests.conftest import PHONES, batch_of
from tests.messaging.test_channels import TWILIO, twilio_handler
from tests.messaging.test_hooks import twilio_post

EMAIL = "carlos@tienda.example"
TWILIO_PATH = "/2010-04-01/Accounts/AC123/Messages.json"


def with_email() -> Contact:
    carlos = Contact.objects.get(phone=PHONES[0])
    carlos.email = EMAIL
    carlos.save()  # keeps email_key
    return carlos


def run_on(make_campaign: Any, make_flow: Any, channel: Any, name: str) -> Any:
    campaign = make_campaign(started=True, name=name, flow=make_flow(channel=channel))
    run = campaign_tick(campaign_id=campaign.pk)
    assert run is not None
    return run


def statuses(run: Any) -> dict[str, tuple[str, str]]:
    return {
        phone: (status, error)
        for phone, status, error in Message.objects.filter(
            batch_id=batch_of(run)
        ).values_list("contact__phone", "status", "error")
    }


@pytest.mark.django_db
def test_the_fan_out_skips_a_suppressed_phone_on_sms_but_not_on_email(
    make_campaign: Any, make_flow: Any, make_channel: Any, make_group: Any
) -> None:
    make_group(PHONES)
    with_email()
    address_suppress(kind="phone", address=PHONES[0], reason="stop", source="test")

    sms = run_on(make_campaign, make_flow, make_channel(kind="sms"), "SMS sale")
    email = run_on(make_campaign, make_flow, make_channel(kind="email"), "Mail sale")

    assert statuses(sms)[PHONES[0]] == ("skipped", "suppressed: Replied STOP")
    assert statuses(sms)[PHONES[1]] == ("queued", "")
    assert statuses(email)[PHONES[0]] == ("queued", "")


@pytest.mark.django_db
def test_an_email_suppression_skips_email_and_not_sms(
    make_campaign: Any, make_flow: Any, make_channel: Any, make_group: Any
) -> None:
    make_group(PHONES)
    with_email()
    address_suppress(
        kind="email", address=EMAIL.upper(), reason="bounce", source="550 5.1.1"
    )

    email = run_on(make_campaign, make_flow, make_channel(kind="email"), "Mail sale")
    sms = run_on(make_campaign, make_flow, make_channel(kind="sms"), "SMS sale")
    hook = run_on(
        make_campaign,
        make_flow,
        make_channel(kind="webhook", settings={"url": "https://hook.example"}),
        "Hook sale",
    )

    assert statuses(email)[PHONES[0]] == ("skipped", "suppressed: Bounced")
    assert statuses(sms)[PHONES[0]] == ("queued", "")
    assert statuses(hook)[PHONES[0]] == ("queued", "")


@pytest.mark.django_db
def test_suppressing_a_number_skips_what_waits_for_it_on_phone_channels_only(
    make_campaign: Any, make_flow: Any, make_channel: Any, make_group: Any
) -> None:
    make_group(PHONES)
    with_email()
    sms = run_on(make_campaign, make_flow, make_channel(kind="sms"), "SMS sale")
    email = run_on(make_campaign, make_flow, make_channel(kind="email"), "Mail sale")

    assert address_suppress(
        kind="phone", address=PHONES[0], reason="operator", source="asked by phone"
    )

    assert statuses(sms)[PHONES[0]] == ("skipped", "suppressed")
    assert statuses(sms)[PHONES[1]] == ("queued", "")
    assert statuses(email)[PHONES[0]] == ("queued", "")


@pytest.mark.django_db
def test_a_message_whose_number_was_listed_after_the_fan_out_is_skipped_at_claim(
    provider: Any, make_campaign: Any, make_flow: Any, make_channel: Any
) -> None:
    run = run_on(make_campaign, make_flow, make_channel(), "Console sale")
    # Straight into the table, as an import would: no listener skipped the
    # waiting message, the claim reads the list itself.
    entry = address_suppressed("phone", PHONES[0])
    assert entry is None
    from audiences.addresses import phone_key

    Suppression.objects.create(
        address_kind="phone", key=phone_key(PHONES[0]), reason="import"
    )

    report = messages_send_range(batch_id=batch_of(run), first_id=0, last_id=10**9)

    assert (report.sent, report.skipped) == (2, 1)
    assert PHONES[0] not in [phone for _, phone, _ in provider.sent]
    assert statuses(run)[PHONES[0]] == ("skipped", "suppressed")


@pytest.mark.django_db
@pytest.mark.parametrize("checked_in_chunk", [True, False])
def test_a_number_suppressed_during_a_long_chunk_skips_its_message(
    checked_in_chunk: bool,
    provider: Any,
    make_campaign: Any,
    make_flow: Any,
    make_channel: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Read again while the chunk is sent (``checked_in_chunk``), or just before
    the send itself."""
    from messaging import sending

    if checked_in_chunk:
        monkeypatch.setattr(sending, "STOP_CHECK_SECONDS", 0.0)
    else:
        monkeypatch.setattr(sending, "STOP_CHECK_SECONDS", 3600.0)
    run = run_on(make_campaign, make_flow, make_channel(), "Console sale")
    last = Message.objects.filter(batch_id=batch_of(run)).order_by("-id")[0]
    last_phone = last.contact.phone

    def suppress_after_first(message: Message) -> None:
        if not provider.sent:
            address_suppress(
                kind="phone", address=last_phone, reason="stop", source="replied STOP"
            )

    provider.on_send.append(suppress_after_first)

    report = messages_send_range(batch_id=batch_of(run), first_id=0, last_id=10**9)

    assert (report.sent, report.skipped) == (2, 1)
    assert last_phone not in [phone for _, phone, _ in provider.sent]
    last.refresh_from_db()
    assert (last.status, last.error, last.claim_token) == (
        "skipped",
        "suppressed",
        None,
    )


@pytest.mark.django_db
def test_an_email_suppressed_during_a_chunk_does_not_stop_an_sms(
    provider: Any,
    make_campaign: Any,
    make_flow: Any,
    make_channel: Any,
    make_group: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from messaging import sending

    monkeypatch.setattr(sending, "STOP_CHECK_SECONDS", 0.0)
    make_group(PHONES)
    with_email()
    run = run_on(make_campaign, make_flow, make_channel(), "Console sale")

    def suppress_email(message: Message) -> None:
        if not provider.sent:
            address_suppress(kind="email", address=EMAIL, reason="bounce")

    provider.on_send.append(suppress_email)

    report = messages_send_range(batch_id=batch_of(run), first_id=0, last_id=10**9)

    assert (report.sent, report.skipped) == (3, 0)
    assert sorted(phone for _, phone, _ in provider.sent) == sorted(PHONES)


@pytest.fixture
def twilio(httpserver: HTTPServer) -> Any:
    sent: list[dict[str, str]] = []
    httpserver.expect_request(TWILIO_PATH, method="POST").respond_with_handler(
        twilio_handler(sent)
    )
    with override_settings(
        TWILIO_API_BASE=httpserver.url_for("/"),
        FLOWCAST_PUBLIC_URL="https://fc.example",
    ):
        yield sent


def sms_channel(make_channel: Any, **fields: Any) -> Any:
    fields.setdefault("name", "SMS")
    return make_channel(
        kind="sms", settings={"from": "+15005550006"}, credentials=TWILIO, **fields
    )


def reply(client: Client, channel: Any, text: str, sid: str) -> Any:
    answer = twilio_post(
        client,
        f"/hooks/{channel.pk}/inbound",
        {"From": PHONES[0], "Body": text, "MessageSid": sid},
    )
    assert answer.status_code == 200
    return answer


@pytest.mark.django_db
def test_stop_then_start_resubscribes_and_a_later_campaign_reaches_the_number(
    client: Client,
    twilio: list[dict[str, str]],
    make_campaign: Any,
    make_flow: Any,
    make_channel: Any,
    make_group: Any,
) -> None:
    make_group(PHONES)
    channel = sms_channel(make_channel)

    reply(client, channel, "Stop", "SMin1")
    stopped = run_on(make_campaign, make_flow, channel, "While stopped")
    messages_send_range(batch_id=batch_of(stopped), first_id=0, last_id=10**9)
    reply(client, channel, "start", "SMin2")
    later = run_on(make_campaign, make_flow, channel, "After START")
    report = messages_send_range(batch_id=batch_of(later), first_id=0, last_id=10**9)

    assert statuses(stopped)[PHONES[0]] == ("skipped", "suppressed: Replied STOP")
    assert Contact.objects.get(phone=PHONES[0]).opted_out_at is None
    assert address_suppressed("phone", PHONES[0]) is None
    assert statuses(later)[PHONES[0]][0] == "sent"
    assert report.sent == 2  # the third number is refused by the provider
    to = [form["To"] for form in twilio]
    assert to.count(PHONES[0]) == 1
    keywords = list(
        InboundMessage.objects.order_by("id").values_list("keyword", flat=True)
    )
    assert keywords == ["stop", "start"]


@pytest.mark.django_db
def test_start_takes_back_a_stop_reply_but_not_an_operators_entry(
    client: Client, twilio: list[dict[str, str]], make_channel: Any, make_group: Any
) -> None:
    from base.models import AuditEntry

    make_group(PHONES)
    channel = sms_channel(make_channel)
    address_suppress(kind="phone", address=PHONES[0], reason="operator", source="DNC")
    # A STOP from before the list existed opted the contact out of everything.
    Contact.objects.filter(phone=PHONES[0]).update(
        opted_out_at="2026-01-01T00:00Z", opt_out_source="replied 'STOP' on SMS"
    )

    reply(client, channel, "START", "SMin1")

    entry = address_suppressed("phone", PHONES[0])
    assert entry is not None
    assert entry.reason == "operator"
    assert Contact.objects.get(phone=PHONES[0]).opted_out_at is None
    refused = AuditEntry.objects.get(action="refused")
    assert "only an operator may remove it" in refused.note


@pytest.mark.django_db
def test_help_is_answered_with_the_channels_text_on_the_provider(
    client: Client, twilio: list[dict[str, str]], make_channel: Any, make_group: Any
) -> None:
    make_group(PHONES)
    text = "Tienda Sol: ofertas por SMS. Responde STOP para no recibir más."
    channel = sms_channel(make_channel, help_text=text)

    reply(client, channel, "Help!", "SMin1")

    answer = Message.objects.get()
    assert answer.batch is not None
    assert answer.batch.is_marketing is False
    report = messages_send_range(
        batch_id=answer.batch_id, first_id=answer.pk, last_id=answer.pk
    )
    assert report.sent == 1
    assert [(form["To"], form["Body"]) for form in twilio] == [(PHONES[0], text)]
    inbound = InboundMessage.objects.get()
    assert (inbound.keyword, inbound.conversation) == ("help", None)


@pytest.mark.django_db
def test_the_default_help_text_names_the_channel_and_how_to_stop(
    make_channel: Any,
) -> None:
    from messaging.keywords import help_text

    channel = sms_channel(make_channel, name="Tienda Sol")
    said = help_text(channel)
    assert "Tienda Sol" in said
    assert "Reply STOP to stop" in said


@pytest.mark.django_db
def test_keywords_are_per_channel(
    client: Client, twilio: list[dict[str, str]], make_channel: Any, make_group: Any
) -> None:
    make_group(PHONES)
    spanish = sms_channel(
        make_channel, name="SMS es", stop_keywords="Baja, STOP", start_keywords="alta"
    )
    english = sms_channel(make_channel, name="SMS en")

    reply(client, english, "BAJA", "SMin1")
    assert address_suppressed("phone", PHONES[0]) is None
    reply(client, spanish, "¡baja!", "SMin2")
    assert address_suppressed("phone", PHONES[0]) is not None
    reply(client, english, "ALTA", "SMin3")
    assert address_suppressed("phone", PHONES[0]) is not None
    reply(client, spanish, "START", "SMin4")  # not one of this channel's
    assert address_suppressed("phone", PHONES[0]) is not None
    reply(client, spanish, "Alta", "SMin5")
    assert address_suppressed("phone", PHONES[0]) is None

    keywords = list(
        InboundMessage.objects.order_by("id").values_list("keyword", flat=True)
    )
    assert keywords == ["", "stop", "", "", "start"]


@pytest.mark.django_db
def test_stop_from_a_number_that_is_no_contact_still_suppresses_it(
    client: Client, twilio: list[dict[str, str]], make_channel: Any, make_group: Any
) -> None:
    channel = sms_channel(make_channel)
    stranger = "+525599990000"

    answer = twilio_post(
        client,
        f"/hooks/{channel.pk}/inbound",
        {"From": stranger, "Body": "STOP", "MessageSid": "SMin1"},
    )

    assert answer.status_code == 200
    assert address_suppressed("phone", stranger) is not None
    assert InboundMessage.objects.get().opted_out is True


@pytest.mark.django_db
def test_a_transactional_send_to_a_suppressed_number_is_refused_with_the_reason(
    make_channel: Any, make_group: Any
) -> None:
    from django.utils import timezone

    from messaging.transactional import SendRefused, message_send_now

    make_group(PHONES)
    carlos = with_email()
    address_suppress(kind="phone", address=PHONES[0], reason="stop", source="STOP")
    sms = sms_channel(make_channel)
    mail = make_channel(kind="email", name="Mail")

    with pytest.raises(SendRefused, match="suppression list .replied stop"):
        message_send_now(
            contact=carlos,
            channel=sms,
            body="Tu código: 1234",
            label="API",
            now=timezone.now(),
        )
    sent = message_send_now(
        contact=carlos,
        channel=mail,
        body="Tu código: 1234",
        label="API",
        now=timezone.now(),
    )
    assert sent.status == "queued"
