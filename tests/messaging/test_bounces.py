"""Bounces and dead numbers, against real peers: an SMTP server (aiosmtpd) refusing
recipients, and a server speaking Twilio's Messages API refusing numbers."""

import datetime as dt
import json
import smtplib
from typing import Any

import pytest
from django.test import override_settings
from django.utils import timezone
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from audiences.models import Contact, Suppression
from audiences.suppressing import address_suppressed
from campaigns.runs import campaign_tick
from console.views.timeline_pages import contact_timeline
from messaging.backends.email import smtp_bounce
from messaging.bounces import SOFT_MARK, soft_bounces
from messaging.models import Message
from messaging.sending import messages_send_range
from tests.conftest import PHONES, batch_of
from tests.messaging.test_channels import TWILIO, Mailbox, smtp_peer

GONE, FULL, FINE = "gone@example.com", "full@example.com", "fine@example.com"


class Refusing(Mailbox):
    """Takes mail for everyone but GONE (no such user) and FULL (over quota for
    now)."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: list[str] = []

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        self.asked.append(address)
        if address == GONE:
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        if address == FULL:
            return "452 4.2.2 Mailbox full, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"


@pytest.fixture
def refusing() -> Any:
    with smtp_peer(Refusing()) as server:
        yield server


def give_emails(*addresses: str) -> None:
    """The contacts' email addresses (in order of PHONES), saved as the app saves
    them (with their address keys)."""
    for phone, address in zip(PHONES, addresses, strict=True):
        contact = Contact.objects.get(phone=phone)
        contact.email = address
        contact.save()


def email_campaign(
    make_campaign: Any, make_flow: Any, channel: Any, name: str, **fields: Any
) -> Any:
    return make_campaign(
        started=True, name=name, flow=make_flow(channel=channel), **fields
    )


def send_all(batch_id: int, *, later: dt.timedelta = dt.timedelta(0)) -> Any:
    return messages_send_range(
        batch_id=batch_id, first_id=0, last_id=10**9, now=timezone.now() + later
    )


@pytest.mark.django_db
def test_an_unknown_mailbox_is_suppressed_with_the_servers_answer(
    refusing: Refusing, make_campaign: Any, make_flow: Any, make_channel: Any
) -> None:
    channel = make_channel(name="Newsletter", kind="email")
    campaign = make_campaign(started=True, flow=make_flow(channel=channel))
    give_emails(GONE, FINE, "other@example.com")
    run = campaign_tick(campaign_id=campaign.pk)
    assert run is not None

    report = send_all(batch_of(run))

    assert (report.sent, report.failed, report.retrying) == (2, 1, 0)
    entry = address_suppressed("email", GONE)
    assert entry is not None
    assert entry.reason == Suppression.Reason.BOUNCE
    assert entry.source == (
        "SMTP 550 5.1.1 <recipient>: Recipient address rejected: User unknown "
        "on channel Newsletter"
    )
    assert GONE not in entry.source  # the source outlives the contact's data
    assert address_suppressed("email", FINE) is None
    failed = Message.objects.get(status="failed")
    assert failed.error.startswith("bounced: SMTP 550 5.1.1")
    assert failed.error.endswith("(address suppressed)")
    assert len(refusing.messages) == 2
    # The contact's timeline says why.
    (event,) = [e for e in contact_timeline(failed.contact) if e.status == "failed"]
    assert event.detail == failed.error


@pytest.mark.django_db
def test_soft_bounces_are_retried_and_suppress_at_the_limit(
    refusing: Refusing,
    make_campaign: Any,
    make_flow: Any,
    make_channel: Any,
    make_group: Any,
) -> None:
    channel = make_channel(name="Newsletter", kind="email")
    group = make_group([PHONES[1]])
    contact = Contact.objects.get()
    contact.email = FULL
    contact.save()

    with override_settings(
        SOFT_BOUNCE_LIMIT=2, SOFT_BOUNCE_DAYS=30, MESSAGING_MAX_ATTEMPTS=2
    ):
        first = campaign_tick(
            campaign_id=email_campaign(
                make_campaign, make_flow, channel, "A", group=group
            ).pk
        )
        assert first is not None
        once = send_all(batch_of(first))
        assert (once.retrying, once.failed) == (1, 0)  # 452: tried again later
        retried = Message.objects.get()
        assert retried.status == "queued"
        assert retried.error == "SMTP 452 4.2.2 Mailbox full, try again later"
        twice = send_all(batch_of(first), later=dt.timedelta(hours=2))
        assert (twice.retrying, twice.failed) == (0, 1)
        counted = Message.objects.get()
        assert counted.error == (
            "soft bounce: SMTP 452 4.2.2 Mailbox full, try again later "
            "(1 of 2 in 30 days)"
        )
        assert address_suppressed("email", FULL) is None

        second = campaign_tick(
            campaign_id=email_campaign(
                make_campaign, make_flow, channel, "B", group=group
            ).pk
        )
        assert second is not None
        send_all(batch_of(second))
        send_all(batch_of(second), later=dt.timedelta(hours=2))

    assert refusing.asked == [FULL] * 4
    entry = address_suppressed("email", FULL)
    assert entry is not None
    assert entry.reason == Suppression.Reason.BOUNCE
    assert entry.source.startswith(
        "2 soft bounces in 30 days, the last: SMTP 452 4.2.2 Mailbox full"
    )
    assert entry.source.endswith("on channel Newsletter")
    last = Message.objects.filter(batch_id=batch_of(second)).get()
    assert last.error.endswith("(address suppressed: 2 soft bounces in 30 days)")


@pytest.mark.django_db
def test_soft_bounces_are_counted_per_contact_and_kind_within_the_window(
    make_campaign: Any, make_flow: Any, make_channel: Any
) -> None:
    """The counting query itself, on PostgreSQL and SQLite: the contact's failed
    messages whose error carries the mark, on channels reaching email."""
    channel = make_channel(name="Newsletter", kind="email")
    sms = make_channel(name="Texts", kind="sms", settings={"from": "+15005550006"})
    campaign_tick(campaign_id=email_campaign(make_campaign, make_flow, channel, "A").pk)
    campaign_tick(campaign_id=email_campaign(make_campaign, make_flow, sms, "B").pk)
    give_emails(GONE, FULL, FINE)
    full, gone = Contact.objects.get(email=FULL), Contact.objects.get(email=GONE)
    mark = f"{SOFT_MARK}SMTP 452 4.2.2 full"
    Message.objects.filter(contact=full).update(status="failed", error=mark)
    Message.objects.filter(contact=gone).update(
        status="failed", error="bounced: SMTP 550"
    )
    now = timezone.now()
    since = now - dt.timedelta(days=30)

    assert soft_bounces(full.pk, "email", since=since) == 1  # not the SMS one
    assert soft_bounces(full.pk, "phone", since=since) == 1  # the SMS one
    assert soft_bounces(gone.pk, "email", since=since) == 0  # a hard bounce
    later = now + dt.timedelta(seconds=1)
    assert soft_bounces(full.pk, "email", since=later) == 0  # out of the window
    mine = Message.objects.get(contact=full, channel=channel)
    assert soft_bounces(full.pk, "email", since=since, leaving_out=mine.pk) == 0
    Message.objects.filter(pk=mine.pk).update(status="queued")  # being retried
    assert soft_bounces(full.pk, "email", since=since) == 0


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (smtplib.SMTPRecipientsRefused({"a@x.example": (550, b"5.1.1 no")}), "hard"),
        (smtplib.SMTPRecipientsRefused({"a@x.example": (550, b"No such")}), "hard"),
        (smtplib.SMTPRecipientsRefused({"a@x.example": (550, b"5.7.1 Relay")}), ""),
        (smtplib.SMTPRecipientsRefused({"a@x.example": (452, b"4.2.2 Full")}), "soft"),
        (smtplib.SMTPRecipientsRefused({"a@x.example": (552, b"5.2.2 Full")}), "soft"),
        (smtplib.SMTPRecipientsRefused({"a@x.example": (421, b"Closing")}), ""),
        (smtplib.SMTPDataError(550, b"5.1.1 Unknown user"), "hard"),
        (smtplib.SMTPDataError(554, b"Message refused"), ""),
        (smtplib.SMTPDataError(552, b"5.2.3 Message too big"), ""),
        (smtplib.SMTPSenderRefused(550, b"5.1.0 Bad sender", "us@x"), ""),
    ],
)
def test_only_refusals_about_the_recipient_are_bounces(
    error: OSError, kind: str
) -> None:
    bounce = smtp_bounce(error, "a@x.example")
    found = "" if bounce is None else "soft" if bounce.soft else "hard"
    assert found == kind


def twilio_refusing(sent: list[dict[str, str]], code: int) -> Any:
    def handle(request: Request) -> Response:
        form = request.form.to_dict()
        sent.append(form)
        if form["To"] == PHONES[0]:
            body = {
                "code": code,
                "message": "Attempt to send to unsubscribed recipient",
                "more_info": f"https://www.twilio.com/docs/errors/{code}",
                "status": 400,
            }
            return Response(
                json.dumps(body), status=400, content_type="application/json"
            )
        answer = {"sid": f"SM{len(sent):032d}", "status": "queued"}
        return Response(json.dumps(answer), status=201, content_type="application/json")

    return handle


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("code", "suppressed"),
    [(21610, True), (21211, True), (21614, True), (21612, False)],
)
def test_a_twilio_refusal_naming_a_dead_number_suppresses_it(
    code: int,
    suppressed: bool,
    httpserver: HTTPServer,
    make_campaign: Any,
    make_flow: Any,
    make_channel: Any,
) -> None:
    sent: list[dict[str, str]] = []
    httpserver.expect_request(
        "/2010-04-01/Accounts/AC123/Messages.json", method="POST"
    ).respond_with_handler(twilio_refusing(sent, code))
    channel = make_channel(
        name="SMS", kind="sms", settings={"from": "+15005550006"}, credentials=TWILIO
    )
    campaign = make_campaign(started=True, flow=make_flow(channel=channel))
    run = campaign_tick(campaign_id=campaign.pk)
    assert run is not None

    with override_settings(TWILIO_API_BASE=httpserver.url_for("/")):
        report = send_all(batch_of(run))

    assert (report.sent, report.failed, report.retrying) == (2, 1, 0)
    entry = address_suppressed("phone", PHONES[0])
    failed = Message.objects.get(status="failed")
    if not suppressed:
        assert entry is None
        assert failed.error.startswith("Twilio (SMS) answered HTTP 400")
        return
    assert entry is not None
    assert entry.reason == Suppression.Reason.PROVIDER
    assert entry.source.startswith(f"Twilio error {code}: ")
    assert entry.source.endswith("on channel SMS")
    assert address_suppressed("phone", PHONES[1]) is None
    assert failed.error.startswith("bounced: Twilio (SMS) answered HTTP 400 Bad")
    assert f"{code} Attempt to send" in failed.error
    assert failed.error.endswith("(number suppressed)")
