"""The unsubscribe link of marketing email, against a real SMTP server (aiosmtpd):
the headers and footer it sends, and the public page a recipient or their mail
client (one-click, as Gmail posts it) reaches."""

import email.message
import time
from typing import Any

import httpx
import pytest
from django.core import signing
from django.test import Client, override_settings
from django.utils import timezone

from audiences.erasure import contacts_delete
from audiences.models import Contact, Suppression
from audiences.suppressing import address_suppressed
from campaigns.runs import campaign_tick
from flows.models import FlowStep
from flows.publishing import flow_publish
from messaging.models import Message
from messaging.sending import messages_send_range
from messaging.transactional import message_send_now
from messaging.unsubscribing import unsubscribe_token
from tests.conftest import PHONES, batch_of
from tests.messaging.test_channels import Mailbox, smtp  # noqa: F401 (a fixture)

PUBLIC = "https://flowcast.example.com"
CARLOS = "Carlos@Example.com"
ONE_CLICK = "List-Unsubscribe=One-Click"

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("public_url")]


@pytest.fixture
def public_url() -> Any:
    with override_settings(FLOWCAST_PUBLIC_URL=PUBLIC + "/"):
        yield


def campaign_emails(
    mailbox: Mailbox,
    make_campaign: Any,
    make_flow: Any,
    make_channel: Any,
    **fields: Any,
) -> dict[str, email.message.Message]:
    """Run a campaign on an email channel to CARLOS (and nobody else with an email);
    the emails it sent, by recipient."""
    Contact.objects.all().delete()
    channel = make_channel(
        name="Newsletter", kind="email", settings={"subject": "Ofertas"}
    )
    flow = make_flow(channel=channel, body="Hola {{NOMBRE}}", publish=False)
    media_url = fields.pop("media_url", "")
    FlowStep.objects.filter(flow=flow, kind=FlowStep.Kind.SEND).update(
        media_url=media_url
    )
    flow_publish(flow=flow)
    campaign = make_campaign(started=True, flow=flow, **fields)
    Contact.objects.filter(phone=PHONES[0]).update(email=CARLOS)
    Contact.objects.filter(phone__in=PHONES[1:]).delete()
    run = campaign_tick(campaign_id=campaign.pk)
    assert run is not None
    report = messages_send_range(batch_id=batch_of(run), first_id=0, last_id=10**9)
    assert report.sent == 1
    return {m["To"]: m for m in mailbox.messages}


def text_of(sent: email.message.Message, kind: str = "text/plain") -> str:
    for part in sent.walk():
        if part.get_content_type() == kind:
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode(part.get_content_charset() or "utf-8")
    raise AssertionError(f"no {kind} part")


def link_of(sent: email.message.Message) -> str:
    """The path of the List-Unsubscribe link, checked to be under the public URL."""
    # Unfolded as mail readers do (RFC 5322 2.2.3): a long header may be folded.
    header = str(sent["List-Unsubscribe"]).replace("\r\n", "").strip()
    assert header.startswith(f"<{PUBLIC}/u/"), header
    assert header.endswith(">"), header
    return header[1:-1].removeprefix(PUBLIC)


def one_click(path: str) -> Any:
    """POST as Gmail does (RFC 8058): form-encoded, no cookies, no CSRF token."""
    return Client(enforce_csrf_checks=True).post(
        path, data=ONE_CLICK, content_type="application/x-www-form-urlencoded"
    )


def test_a_campaign_email_carries_the_link_in_its_body_and_both_headers(
    smtp: Mailbox,  # noqa: F811
    make_campaign: Any,
    make_flow: Any,
    make_channel: Any,
) -> None:
    sent = campaign_emails(
        smtp,
        make_campaign,
        make_flow,
        make_channel,
        media_url="https://cdn.example.com/sale.png",
    )[CARLOS]

    path = link_of(sent)
    assert sent["List-Unsubscribe-Post"] == ONE_CLICK
    text = text_of(sent)
    assert text.startswith("Hola N0")
    assert f"unsubscribe: {PUBLIC}{path}" in text
    assert f'<a href="{PUBLIC}{path}">Unsubscribe</a>' in text_of(sent, "text/html")
    # One link per message: it says which email it came in.
    message = Message.objects.get(contact__email=CARLOS)
    token = path.removeprefix("/u/")
    assert signing.loads(token, salt="flowcast.unsubscribe")[0] == message.pk


def test_a_transactional_email_carries_no_unsubscribe_link(
    smtp: Mailbox,  # noqa: F811
    make_channel: Any,
) -> None:
    channel = make_channel(kind="email", settings={"subject": "Your order"})
    contact = Contact.objects.create(phone=PHONES[0], email=CARLOS)
    message = message_send_now(
        contact=contact,
        channel=channel,
        body="Order 1234 is on its way.",
        label="shop",
        now=timezone.now(),
    )

    report = messages_send_range(
        batch_id=message.batch_id, first_id=message.pk, last_id=message.pk
    )

    assert report.sent == 1
    (sent,) = smtp.messages
    assert sent["List-Unsubscribe"] is None
    assert sent["List-Unsubscribe-Post"] is None
    assert "/u/" not in text_of(sent)


def test_the_one_click_post_as_gmail_sends_it_suppresses_the_address_once(
    smtp: Mailbox,  # noqa: F811
    make_campaign: Any,
    make_flow: Any,
    make_channel: Any,
) -> None:
    sent = campaign_emails(smtp, make_campaign, make_flow, make_channel)[CARLOS]
    path = link_of(sent)
    message = Message.objects.get(contact__email=CARLOS)

    answer = one_click(path)

    assert answer.status_code == 200, answer.content
    assert "C•••@Example.com will receive no more" in answer.content.decode()
    entry = address_suppressed("email", "carlos@example.com")
    assert entry is not None
    assert entry.reason == Suppression.Reason.UNSUBSCRIBE
    assert entry.hint == "C•••@Example.com"
    assert entry.source == (
        f"unsubscribe link in email {message.pk} ({message.batch.name})"
    )
    # Twice: still unsubscribed, one entry.
    assert one_click(path).status_code == 200
    assert Suppression.objects.count() == 1


def test_following_the_link_only_asks(
    smtp: Mailbox,  # noqa: F811
    make_campaign: Any,
    make_flow: Any,
    make_channel: Any,
) -> None:
    sent = campaign_emails(smtp, make_campaign, make_flow, make_channel)[CARLOS]
    path = link_of(sent)

    page = Client().get(path)

    assert page.status_code == 200
    html = page.content.decode()
    assert "Unsubscribe C•••@Example.com from these emails?" in html
    assert '<form method="post">' in html
    assert 'name="viewport"' in html
    assert page["Cache-Control"] == "no-store"
    assert Client().head(path).status_code == 200
    assert not Suppression.objects.exists()
    # The page's button posts the form: that unsubscribes.
    assert Client(enforce_csrf_checks=True).post(path).status_code == 200
    assert address_suppressed("email", CARLOS) is not None


def test_a_spanish_campaign_speaks_spanish_in_its_email_and_on_its_page(
    smtp: Mailbox,  # noqa: F811
    make_campaign: Any,
    make_flow: Any,
    make_channel: Any,
) -> None:
    sent = campaign_emails(smtp, make_campaign, make_flow, make_channel, language="es")[
        CARLOS
    ]
    path = link_of(sent)
    assert "Para dejar de recibir estos correos, date de baja:" in text_of(sent)

    page = Client().get(path).content.decode()
    assert '<html lang="es">' in page
    assert "¿Dar de baja C•••@Example.com de estos correos?" in page
    assert "Darme de baja" in page
    done = one_click(path).content.decode()
    assert "C•••@Example.com no recibirá más estos correos." in done


def test_the_link_still_unsubscribes_after_the_contact_is_erased(
    smtp: Mailbox,  # noqa: F811
    make_campaign: Any,
    make_flow: Any,
    make_channel: Any,
) -> None:
    sent = campaign_emails(smtp, make_campaign, make_flow, make_channel)[CARLOS]
    path = link_of(sent)
    message_id = Message.objects.get(contact__email=CARLOS).pk
    contacts_delete(contacts=Contact.objects.filter(email=CARLOS))
    assert not Message.objects.exists()

    assert one_click(path).status_code == 200

    entry = address_suppressed("email", CARLOS)
    assert entry is not None
    assert entry.source == f"unsubscribe link in email {message_id}"
    # Imported again, the address is on the list.
    again = Contact.objects.create(phone=PHONES[0], email="carlos@example.com")
    assert again.email_key == entry.key


def test_a_changed_link_is_refused_clearly_and_unsubscribes_nobody() -> None:
    token = unsubscribe_token(message_id=7, email=CARLOS, language="en")
    changed = token[:-3] + ("aaa" if not token.endswith("aaa") else "bbb")

    for answer in (one_click(f"/u/{changed}"), Client().get(f"/u/{changed}")):
        assert answer.status_code == 400
        assert "This unsubscribe link is not valid" in answer.content.decode()
    # Signed, but not as a link (another use of the same salt's format).
    other = signing.dumps({"m": 7}, salt="flowcast.unsubscribe")
    assert one_click(f"/u/{other}").status_code == 400
    assert not Suppression.objects.exists()


def test_an_expired_link_is_refused_in_the_browsers_language(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    year_ago = time.time() - 366 * 24 * 3600
    with monkeypatch.context() as clock:
        clock.setattr(time, "time", lambda: year_ago)
        token = unsubscribe_token(message_id=7, email=CARLOS, language="en")

    answer = Client(headers={"Accept-Language": "pt-BR,pt;q=0.9"}).post(
        f"/u/{token}", data=ONE_CLICK, content_type="application/x-www-form-urlencoded"
    )

    assert answer.status_code == 410
    assert "Este link para cancelar a inscrição expirou" in answer.content.decode()
    assert not Suppression.objects.exists()
    with override_settings(UNSUBSCRIBE_LINK_DAYS=400):
        assert one_click(f"/u/{token}").status_code == 200
    assert address_suppressed("email", CARLOS) is not None


def test_the_page_takes_no_other_method() -> None:
    token = unsubscribe_token(message_id=7, email=CARLOS, language="en")
    assert Client().put(f"/u/{token}").status_code == 405
    assert Client().delete(f"/u/{token}").status_code == 405
    assert not Suppression.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_mail_clients_one_click_over_http_unsubscribes(
    live_server: Any,
    smtp: Mailbox,  # noqa: F811
    make_campaign: Any,
    make_flow: Any,
    make_channel: Any,
) -> None:
    with override_settings(FLOWCAST_PUBLIC_URL=live_server.url):
        sent = campaign_emails(smtp, make_campaign, make_flow, make_channel)[CARLOS]
    url = str(sent["List-Unsubscribe"]).replace("\r\n", "").strip()[1:-1]
    assert url.startswith(f"{live_server.url}/u/")

    # As Gmail posts it: the header's URL, the one-click body, nothing else.
    with httpx.Client(timeout=10) as client:
        asked = client.get(url)
        assert asked.status_code == 200
        assert address_suppressed("email", CARLOS) is None
        answer = client.post(
            url,
            content=ONE_CLICK,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )

    assert answer.status_code == 200, answer.text
    assert address_suppressed("email", CARLOS) is not None
